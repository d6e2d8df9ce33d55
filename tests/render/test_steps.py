"""Steps across archived commits: the first commit of a clear change is marked, noise is not."""

from __future__ import annotations

import copy
import json
import random
import shutil
from pathlib import Path

from stallscope.render.index import build_index
from stallscope.render.steps import detect_steps

from .conftest import make_claims


def _archive(reports: Path, tmp: Path, sut: str, date: str, delivered: list[float]) -> dict:
    path = make_claims(tmp / sut, sut_id=sut, commit_date=date)
    data = json.loads(path.read_text())
    first = next(r for r in data["runs"] if r["scenario"] == "baseline")
    data["runs"] = [r for r in data["runs"] if r["scenario"] != "baseline"]
    for k, v in enumerate(delivered, start=1):
        run = copy.deepcopy(first)
        run.update({"run_id": f"baseline/t{k}", "trial": k})
        run["key_figures"]["delivered_mb_s"] = v
        data["runs"].append(run)
    (reports / sut).mkdir(parents=True)
    (reports / sut / "claims.json").write_text(json.dumps(data))
    shutil.copy(path, tmp / f"{sut}.orig.json")
    return data


def _noisy(rng: random.Random, level: float, n: int = 5) -> list[float]:
    return [rng.gauss(level, level * 0.02) for _ in range(n)]


def test_index_marks_the_regression_at_its_first_commit(tmp_path: Path) -> None:
    rng = random.Random(5)
    reports = tmp_path / "reports"
    suts = ["111111111111", "222222222222", "333333333333", "444444444444"]
    levels = [1000.0, 1000.0, 600.0, 600.0]
    for i, (sut, level) in enumerate(zip(suts, levels, strict=True)):
        _archive(reports, tmp_path, sut, f"2026-11-0{i + 1}T09:00:00+00:00", _noisy(rng, level))
    html = build_index(reports).read_text()
    assert "Steps across commits" in html and "regressed" in html
    assert 'href="333333333333/assessment.html"' in html and 'href="222222222222/assessment.html"' in html
    data = [(json.loads((reports / s / "claims.json").read_text()), s) for s in suts]
    steps, _ = detect_steps(data)
    delivered = [s for s in steps if s["scenario"] == "baseline" and s["figure"] == "delivered_mb_s"]
    assert [(s["was"], s["now"], s["status"]) for s in delivered] == [("222222222222", "333333333333", "regressed")]


def test_noise_alone_marks_no_step_and_a_recovery_is_improved(tmp_path: Path) -> None:
    rng = random.Random(9)
    archives = []
    for i, level in enumerate([800.0, 800.0, 800.0, 800.0, 1200.0]):
        sut = f"{i + 1}" * 12
        archives.append((_archive(tmp_path / "r", tmp_path, sut, f"2026-11-0{i + 1}T09:00:00+00:00",
                                  _noisy(rng, level)), sut))
    steps, _ = detect_steps(archives)
    delivered = [s for s in steps if s["scenario"] == "baseline" and s["figure"] == "delivered_mb_s"]
    assert [(s["now"], s["status"]) for s in delivered] == [("5" * 12, "improved")]


def test_single_trial_commits_are_noted_not_guessed(tmp_path: Path) -> None:
    a = _archive(tmp_path / "r", tmp_path, "a" * 12, "2026-11-01T09:00:00+00:00", [1000.0])
    b = _archive(tmp_path / "r", tmp_path, "b" * 12, "2026-11-02T09:00:00+00:00", [10.0])
    steps, notes = detect_steps([(a, "a" * 12), (b, "b" * 12)])
    assert not [s for s in steps if s["scenario"] == "baseline"] and any("one trial" in n for n in notes)


def test_steps_read_summary_json_when_given() -> None:
    """The index's per-trial figures come from summary.json when the archive has one."""
    import random

    from stallscope.shared.summary import build_summary

    rng = random.Random(4)
    archives, summaries = [], {}
    for folder, level in (("a" * 12, 1000.0), ("b" * 12, 600.0)):
        runs = [{"run_id": f"s/t{k}", "scenario": "s", "outcome": "completed", "bound": {"cause": "none"},
                 "key_figures": {}} for k in range(1, 6)]
        claims = {"sut": {"id": folder}, "stallscope": {"version": "0"}, "generated_utc": "x", "runs": runs,
                  "claims": [], "diagnosis": []}
        metrics = {r["run_id"]: {"throughput": {"delivered_mb_s": rng.gauss(level, 5)}} for r in runs}
        archives.append((claims, folder))
        summaries[folder] = build_summary(claims, metrics)
    assert detect_steps(archives)[0] == []  # the claims alone hold no figures
    (step,) = detect_steps(archives, summaries)[0]
    assert (step["scenario"], step["figure"], step["status"]) == ("s", "delivered_mb_s", "regressed")
