"""summary.json: per-scenario statistics and the verdicts as data, written beside claims.json by assess."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from stallscope import schemas
from stallscope.pipeline import assess_with_diagnosis
from stallscope.shared import trialstats
from tests.builders.panel import panel_manifest, panel_metrics, panel_write_run


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 5), timeouts=st.integers(0, 5))
def test_summary_beside_claims_holds_each_scenarios_trials(tmp_path_factory, seed: int, n: int, timeouts: int) -> None:
    root = tmp_path_factory.mktemp("runs")
    rng = random.Random(seed)
    dirs, delivered = [], []
    timeouts = min(timeouts, n)
    for k in range(1, n + 1):
        m = panel_metrics("ack_path")
        m["throughput"]["delivered_mb_s"] = v = round(rng.uniform(100, 900), 2)
        m["acks"]["is_timeout"] = k <= timeouts
        delivered.append(v)
        dirs.append(panel_write_run(root, m, panel_manifest("ack_path", trial=k, expected_cause="ack_path")))
    out = root / "assessment" / "claims.json"
    assess_with_diagnosis(dirs, out, extras={})
    summary = schemas.read_json(out.parent / "summary.json", "summary")
    claims = schemas.read_json(out, "claims")
    scen = summary["scenarios"]["ack_path"]
    assert scen["trials"] == n and scen["failed_trials"] == timeouts
    assert scen["figures"]["delivered_mb_s"] == trialstats.median_ci(delivered)
    assert sum(scen["outcomes"].values()) == sum(scen["bounds"].values()) == n
    assert scen["expected_cause"] == "ack_path"
    assert [t["run_id"] for t in scen["per_trial"]] == [f"ack_path/t{k}" for k in range(1, n + 1)]
    assert [v["id"] for v in summary["verdicts"]] == [c["id"] for c in claims["claims"]]
    for v, c in zip(summary["verdicts"], claims["claims"], strict=True):
        assert v["verdict"] == c["verdict"] and set(v["judged_on"]) <= {"ack_path"}
        assert v["runs"] == len(c["runs"])


def test_summary_path_can_be_named(tmp_path: Path) -> None:
    d = panel_write_run(tmp_path, panel_metrics("stress_10gb"), panel_manifest("stress_10gb"))
    assess_with_diagnosis([d], tmp_path / "a" / "claims.json", extras={}, summary_out=tmp_path / "s.json")
    assert schemas.read_json(tmp_path / "s.json", "summary")["scenarios"]["stress_10gb"]["trials"] == 1
    assert not (tmp_path / "a" / "summary.json").exists()
