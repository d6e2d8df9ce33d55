"""assess (diagnosis then claims): files in, claims.json out; mixing, harness errors, not_run, extras."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from stallscope import schemas
from stallscope.cli import main
from stallscope.errors import StallscopeError
from stallscope.panel.context import load_config_scenarios
from stallscope.pipeline import assess_with_diagnosis
from tests.builders.panel import panel_write_run
from tests.panel.signatures import ALL, e2e_10mb, stress_10gb

REPO = Path(__file__).resolve().parents[2]


def _write_all(root: Path) -> list[Path]:
    return [panel_write_run(root, *f()) for f in ALL.values()]


def test_assess_all_scenarios_writes_valid_claims(tmp_path: Path) -> None:
    out = assess_with_diagnosis(_write_all(tmp_path / "runs"), tmp_path / "claims.json", None, False, extras={})
    data = schemas.read_json(out, "claims")
    assert len(data["claims"]) >= 16 and len(data["diagnosis"]) == 9
    assert all(d["matches_expected"] for d in data["diagnosis"])
    assert sum(data["verdict_counts"].values()) == len(data["claims"])
    by_id = {c["id"]: c for c in data["claims"]}
    assert by_id["reproduced_original_failure"]["verdict"] == "supported"
    assert by_id["recv_root_cause_of_ack_timeout"]["verdict"] == "refuted"
    assert by_id["overhead_negligible"]["verdict"] == "inconclusive"
    assert data["sut"]["id"] == "0123456789ab" and data["is_mixed"] is False
    assert data["runs"][0]["key_figures"]["acks_expected"] == 10_000
    assert any("bench.json" in s for s in data["next_steps"])


def test_assess_seed_like_e2e_only_matches_seed(tmp_path: Path) -> None:
    out = assess_with_diagnosis([panel_write_run(tmp_path, *e2e_10mb())], tmp_path / "c.json", extras={})
    by_id = {c["id"]: c["verdict"] for c in json.loads(out.read_text())["claims"]}
    assert by_id["recv_root_cause_of_ack_timeout"] == "overclaim"
    assert by_id["reproduced_original_failure"] == "refuted"
    assert by_id["ring_not_repeated_stall"] == "supported"
    assert by_id["grep_verdict_brittle"] == "supported"
    assert by_id["e2e_long_stalls_after_client_done"] == "supported"
    assert by_id["blocks_during_publish"] == "not_run"


def test_assess_missing_metrics_harness_error_entry(tmp_path: Path) -> None:
    m, man = e2e_10mb()
    d = panel_write_run(tmp_path, None, man)
    (d / "metrics.json").write_text("{not json", encoding="utf-8")
    data = json.loads(assess_with_diagnosis([d], tmp_path / "c.json", extras={}).read_text())
    assert data["runs"][0]["harness_ok"] is False
    assert "not valid JSON" in data["runs"][0]["harness_errors"][0]
    by_id = {c["id"]: c for c in data["claims"]}
    assert by_id["acks_complete"]["verdict"] == "harness_error"
    assert "not valid JSON" in by_id["acks_complete"]["reason"]


def test_assess_mixed_sut_refused_names_dirs(tmp_path: Path) -> None:
    a = panel_write_run(tmp_path, *e2e_10mb())
    m, man = stress_10gb()
    man["sut"]["id"] = "bbbbbbbbbbbb"
    b = panel_write_run(tmp_path, m, man)
    with pytest.raises(StallscopeError) as exc:
        assess_with_diagnosis([a, b], tmp_path / "c.json", extras={})
    assert str(a) in str(exc.value) and str(b) in str(exc.value)
    assert not (tmp_path / "c.json").exists()


def test_assess_mixed_hosts_allowed_says_so(tmp_path: Path) -> None:
    a = panel_write_run(tmp_path, *e2e_10mb())
    m, man = stress_10gb()
    man["host"]["hostname"] = "node02"
    b = panel_write_run(tmp_path, m, man)
    data = json.loads(assess_with_diagnosis([a, b], tmp_path / "c.json", allow_mixed=True, extras={}).read_text())
    assert data["is_mixed"] is True and "hosts" in data["mixed_note"]
    assert data["hosts"] == ["node01", "node02"]


def test_assess_configured_not_run_from_config(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump({"sut": {"kind": "reference", "source": "."},
                                   "scenarios": {"slow_producer_10gb": {"expected_cause": "client_producer",
                                                                        "total_bytes": 1}}}))
    out = assess_with_diagnosis([panel_write_run(tmp_path, *e2e_10mb())], tmp_path / "c.json", cfg, extras={})
    c = {c["id"]: c for c in json.loads(out.read_text())["claims"]}["blocks_during_publish"]
    assert c["verdict"] == "not_run" and "configured but not run" in c["reason"]


@pytest.mark.parametrize(("text", "says"), [
    ("scenarios: [unclosed", "not valid YAML"),
    ("scenarios: {}\n", "'sut' is a required property"),
    ("sut: {kind: reference, source: .}\nscenarios: {x: {expected_cause: none, total_bytes: .inf}}\n",
     "total_bytes"),
    (None, "config file not found"),
])
def test_assess_bad_config_is_an_error_naming_it(tmp_path: Path, text: str | None, says: str) -> None:
    """The panel reads the config as the experiment does (validated, defaults filled): a bad one is refused in one
    line that names the file, before any claim is judged."""
    cfg = tmp_path / "config.yaml"
    if text is not None:
        cfg.write_text(text)
    with pytest.raises(StallscopeError, match=says) as exc:
        assess_with_diagnosis([panel_write_run(tmp_path, *e2e_10mb())], tmp_path / "c.json", cfg, extras={})
    assert str(exc.value).startswith(str(cfg))
    assert not (tmp_path / "c.json").exists()


@pytest.mark.parametrize("name", ["config.yaml", "embarcadero.yaml", "embarcadero-experiments.yaml",
                                  "embarcadero-commits.yaml"])
def test_every_shipped_config_gives_the_panel_its_scenarios(name: str) -> None:
    path = REPO / "config" / name
    assert set(load_config_scenarios(path)) == set(yaml.safe_load(path.read_text(encoding="utf-8"))["scenarios"])


def test_assess_bench_extra_settles_overhead(tmp_path: Path) -> None:
    bench = tmp_path / "overhead.json"
    bench.write_text(json.dumps({"ratio_timers_on_vs_off": 1.01}))
    out = assess_with_diagnosis([panel_write_run(tmp_path, *e2e_10mb())], tmp_path / "c.json",
                      extras={"overhead_bench": bench})
    c = {c["id"]: c for c in json.loads(out.read_text())["claims"]}["overhead_negligible"]
    assert c["verdict"] == "supported" and c["evidence"][0]["file"] == str(bench)


def test_assess_cli_exits_zero_whatever_verdicts(tmp_path: Path) -> None:
    run = panel_write_run(tmp_path, *ALL["slow_producer_10gb"]())
    assert main(["assess", str(run), "--out", str(tmp_path / "c.json")]) == 0
    assert (tmp_path / "c.json").exists()


def test_claims_schema_good_example_valid_bad_example_rejected(tmp_path: Path) -> None:
    out = assess_with_diagnosis([panel_write_run(tmp_path, *e2e_10mb())], tmp_path / "c.json", extras={})
    good = json.loads(out.read_text())
    schema = schemas.load_schema("claims.schema.json")
    schemas.validate(good, schema, out)
    bad = copy.deepcopy(good)
    bad["claims"][0]["verdict"] = "valid"
    with pytest.raises(StallscopeError, match=r"at \$\.claims\[0\]\.verdict"):
        schemas.validate(bad, schema, out)
    bad = copy.deepcopy(good)
    bad["claims"][0]["extra"] = 1
    with pytest.raises(StallscopeError):
        schemas.validate(bad, schema, out)


def test_assess_stamps_the_assessing_tool_and_keeps_each_runs_maker(tmp_path: Path) -> None:
    from stallscope.render.report import render_report
    from stallscope.shared.provenance import stallscope_facts

    m, man = e2e_10mb()
    man = copy.deepcopy(man)
    man["stallscope"] = {"version": "0.0.9", "commit": "fedcba987654" + "0" * 28, "is_dirty": False}
    out = assess_with_diagnosis([panel_write_run(tmp_path, m, man)], tmp_path / "c.json", extras={})
    data = schemas.read_json(out, "claims")
    assert data["stallscope"] == stallscope_facts()  # this checkout, not the one that made the run
    assert data["runs"][0]["stallscope_commit"] == "fedcba987654" + "0" * 28
    html = render_report(out, tmp_path / "report", formats="html").read_text()
    provenance = html[html.index('id="provenance"'):]
    assert "runs made by stallscope" in provenance and "fedcba987654" in provenance
    assert str(data["stallscope"]["commit"]) in provenance
