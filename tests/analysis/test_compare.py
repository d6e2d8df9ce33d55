"""Before/after over trials: the rank test, the smallest detectable change, problem_fixed and `stallscope compare`."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stallscope.analysis import compare_io
from stallscope.cli import main
from stallscope.shared import compare
from tests.builders.panel import panel_manifest, panel_metrics, panel_write_run


def test_rank_test_exact_values() -> None:
    assert compare.rank_test([1, 2, 3], [4, 5, 6]) == pytest.approx(0.1)
    assert compare.rank_test([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) == pytest.approx(2 / 252)
    assert compare.rank_test([1, 2, 3], [1, 2, 3]) == 1.0
    assert compare.smallest_p(3, 3) == pytest.approx(0.1)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(5, 9), shift=st.floats(0.3, 0.9))
def test_clear_shift_is_a_change_in_its_direction(seed: int, n: int, shift: float) -> None:
    """Random trials with a shift far beyond their spread: always changed, the direction right."""
    rng = random.Random(seed)
    base = [rng.gauss(1000, 10) for _ in range(n)]
    cand = [rng.gauss(1000 * (1 - shift), 10) for _ in range(n)]
    row = compare.compare_figure("delivered_mb_s", base, cand)
    assert row["status"] == "regressed" and row["p_value"] <= compare.ALPHA
    assert row["relative_change"] == pytest.approx(-shift, abs=0.1)
    assert compare.compare_figure("ack_latency_p99_us", base, cand)["status"] == "improved"


def test_same_distribution_is_no_detectable_change_with_its_smallest_change() -> None:
    rng = random.Random(3)
    false_changes = 0
    for _ in range(100):
        a = [rng.gauss(500, 20) for _ in range(6)]
        b = [rng.gauss(500, 20) for _ in range(6)]
        row = compare.compare_figure("delivered_mb_s", a, b)
        if row["status"] != "no detectable change":
            false_changes += 1
            continue
        assert row["smallest_detectable"] > 0 and "smallest change" in row["note"]
    assert false_changes <= 12  # 5 % expected; the bound leaves room for chance, not for a broken test


def test_three_trials_cannot_reach_the_level_and_say_so() -> None:
    row = compare.compare_figure("delivered_mb_s", [1.0, 2.0, 3.0], [10.0, 11.0, 12.0])
    assert row["status"] == "no detectable change" and row["smallest_detectable"] is None
    assert "smallest possible p = 0.1" in row["note"]
    assert compare.compare_figure("delivered_mb_s", [1.0, 2.0, 3.0], [10.0, 11.0, 12.0], alpha=0.1)["status"] \
        == "improved"


@pytest.mark.parametrize(("base", "cand", "want"), [
    ([True, True, True], [False, False, False], "supported"),
    ([True, True, False], [False, False, False], "supported"),
    ([False, False, False], [True, True, True], "refuted"),
    ([True, True, True], [True, True, False], "refuted"),
    ([True, True, True], [True, False, False], "inconclusive"),
    ([False, False, False], [False, False, False], "inconclusive"),
    ([True, False, False], [False, False, False], "inconclusive"),
    ([True, True, True], [False, None, False], "inconclusive"),
])
def test_problem_fixed_rule(base: list, cand: list, want: str) -> None:
    assert compare.problem_fixed(base, cand)[0] == want


def _archive(root: Path, sut: str, stall: bool, n: int = 3) -> Path:
    for k in range(1, n + 1):
        m = panel_metrics("ack_path")
        m["acks"]["is_timeout"] = stall
        m["acks"]["completeness"] = 0.7 if stall else 1.0
        m["throughput"]["delivered_mb_s"] = (300.0 if stall else 900.0) + k
        panel_write_run(root, m, panel_manifest("ack_path", trial=k, sut_id=sut))
    return root / sut


@pytest.mark.parametrize(("first", "second", "want"), [
    (True, False, "supported"), (False, True, "refuted"), (False, False, "inconclusive")])
def test_compare_cli_on_two_archives(tmp_path: Path, first: bool, second: bool, want: str) -> None:
    a = _archive(tmp_path / "a", "aaaaaaaaaaaa", first)
    b = _archive(tmp_path / "b", "bbbbbbbbbbbb", second)
    out = tmp_path / "cmp.json"
    assert main(["compare", str(a), str(b), "--out", str(out)]) == 0
    got = json.loads(out.read_text())
    assert got["problem_fixed"]["verdict"] == want
    assert (got["baseline"], got["candidate"]) == ("aaaaaaaaaaaa", "bbbbbbbbbbbb")
    rows = {r["figure"]: r for r in got["scenarios"][0]["figures"]}
    assert rows["delivered_mb_s"]["baseline"]["n"] == 3
    if first == second:
        assert rows["delivered_mb_s"]["status"] == "no detectable change"


def test_compare_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "claims.json"
    bad.write_text("{not json")
    assert main(["compare", str(bad), str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "claims.json" in err


def test_settle_over_leaves_out_a_scenario_that_fails_on_both_sides(tmp_path: Path) -> None:
    """A fault scenario times out on both commits by design: compared, but problem_fixed is settled elsewhere."""
    a = _archive(tmp_path / "a", "aaaaaaaaaaaa", True)
    b = _archive(tmp_path / "b", "bbbbbbbbbbbb", True)
    every, only = tmp_path / "every.json", tmp_path / "only.json"
    assert main(["compare", str(a), str(b), "--out", str(every)]) == 0
    assert json.loads(every.read_text())["problem_fixed"]["verdict"] == "refuted"
    assert main(["compare", str(a), str(b), "--out", str(only), "--settle-over", "e2e_10mb",
                 "--settle-over=stress_10gb"]) == 0
    got = json.loads(only.read_text())
    assert got["problem_fixed"]["verdict"] == "inconclusive"
    assert got["problem_fixed"]["reason"].endswith("(settled over e2e_10mb, stress_10gb)")
    assert got["scenarios"][0]["scenario"] == "ack_path"
    assert got["scenarios"][0]["problem_fixed"]["verdict"] == "refuted"


def test_a_significant_change_below_the_smallest_worth_reporting_is_not_reported() -> None:
    base = [1000.0, 1001.0, 1002.0, 1003.0, 1004.0, 1005.0]
    cand = [v * 1.02 for v in base]
    row = compare.compare_figure("delivered_mb_s", base, cand, min_change=0.05)
    assert row["p_value"] <= compare.ALPHA and row["ratio"]["lo"] > 1
    assert row["status"] == "no detectable change" and "below the 5% worth reporting" in row["note"]
    assert compare.compare_figure("delivered_mb_s", base, cand, min_change=0.01)["status"] == "improved"


def test_compare_reads_summary_json_beside_claims(tmp_path: Path) -> None:
    """summary.json is the interface: compare reads it (or the one beside a claims.json) and gets the same rows as
    from the run directories."""
    from stallscope.pipeline import assess_with_diagnosis

    sides = {}
    for name, stall in (("a", True), ("b", False)):
        root = _archive(tmp_path / name, name * 12, stall, n=4)
        out = tmp_path / f"{name}-assessment" / "claims.json"
        assess_with_diagnosis(sorted(root.glob("*/t*")), out, extras={})
        sides[name] = (root, out)
    from_dirs = compare.compare_summaries(*(compare_io.load_summaries(sides[k][0]) for k in "ab"))
    for pick in (lambda k: sides[k][1], lambda k: sides[k][1].parent / "summary.json"):
        got = compare.compare_summaries(*(compare_io.load_summaries(pick(k)) for k in "ab"))
        assert [r["status"] for r in got["scenarios"][0]["figures"]] == \
            [r["status"] for r in from_dirs["scenarios"][0]["figures"]]
        assert got["scenarios"][0]["figures"][0]["baseline"]["values"] == \
            from_dirs["scenarios"][0]["figures"][0]["baseline"]["values"]
    assert got["baseline"] == "a" * 12
