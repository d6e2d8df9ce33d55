"""`sut.baseline` in the config: the DAG builds the baseline in a git worktree, runs the same scenarios and trials
on it, compares the two and puts the comparison in the candidate's report.

The dry runs check the jobs and their commands; the end-to-end run uses a baseline of HEAD (the candidate's own
commit), so the comparison can only say "no detectable change" and problem_fixed cannot be supported.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from .conftest import git, make_workdir, snakemake

pytestmark = pytest.mark.snakemake

BASELINE_RULES = ("build_baseline", "run_baseline", "compare_baseline", "render_compared")


def _job_counts(stdout: str) -> dict[str, int]:
    """The dry run's job table (``rule count`` lines)."""
    return {m[1]: int(m[2]) for m in re.finditer(r"^([a-z_]+)\s+(\d+)$", stdout, re.M)}


def _with_baseline(rev: str, trials: int | None = None, keep: tuple[str, ...] | None = None):
    def mutate(cfg: dict) -> None:
        cfg["sut"]["baseline"] = rev
        if keep is not None:
            cfg["scenarios"] = {k: v for k, v in cfg["scenarios"].items() if k in keep}
        if trials is not None:
            cfg.setdefault("defaults", {})["trials"] = trials
    return mutate


def test_dry_run_with_a_baseline_lists_its_build_runs_comparison_and_report(tmp_path: Path) -> None:
    wd = make_workdir(tmp_path, _with_baseline("HEAD", trials=3))
    src = tmp_path / "src"
    head = git(src, "rev-parse", "HEAD").strip()
    res = snakemake(wd, "-n", "--printshellcmds", "report", timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    jobs = _job_counts(res.stdout)
    n_runs = 4 * 3  # the small config's four scenarios, three trials each
    assert jobs["build_baseline"] == 1 and jobs["build_broker"] == 1
    assert jobs["run_baseline"] == n_runs and jobs["run_scenario"] == n_runs
    assert jobs["parse_run"] == 2 * n_runs and jobs["compute_metrics"] == 2 * n_runs
    assert jobs["assess_claims"] == 2 and jobs["bench_broker"] == 1  # no benchmark of the baseline
    assert jobs["compare_baseline"] == 1 and jobs["render_compared"] == 1 and "render_report" not in jobs
    base = f"baseline-{head[:12]}"
    assert f"--rev={head} --worktrees results/baseline-src --out results/build/{base}" in res.stdout
    assert "--werror" not in next(line for line in res.stdout.splitlines() if "--rev=" in line)
    assert f"results/runs/{base}/ack_path/t3" in res.stdout
    assert f"-- results/assessment/{base}/claims.json results/assessment/" in res.stdout
    # Only the claim's fault-free scenarios settle it: the small config has none (its e2e_10mb injects a linger).
    assert "--settle-over= " in res.stdout and "--comparison results/compare/" in res.stdout
    assert "--extend --min-change=0.05 --max-trials=8" in res.stdout  # the config's compare block, defaults


def test_baseline_rules_quote_what_they_did_not_make(tmp_path: Path) -> None:
    """The injection walk of test_injection, on the rules that exist only with a baseline."""
    from .test_injection import _load_rules, unsafe_substitutions

    wd = make_workdir(tmp_path, _with_baseline("HEAD"))
    rules = dict(_load_rules(wd, wd / "config.yaml"))
    assert set(BASELINE_RULES) <= set(rules)
    assert {n: unsafe_substitutions(rules[n]) for n in BASELINE_RULES} == dict.fromkeys(BASELINE_RULES, [])


def test_without_a_baseline_no_baseline_job_exists(tmp_path: Path) -> None:
    wd = make_workdir(tmp_path)
    res = snakemake(wd, "-n", "report", timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    jobs = _job_counts(res.stdout)
    assert not set(BASELINE_RULES) & set(jobs) and jobs["render_report"] == 1


def test_a_revision_that_is_no_commit_is_one_line_naming_the_key(tmp_path: Path) -> None:
    wd = make_workdir(tmp_path, _with_baseline("no-such-rev"))
    res = snakemake(wd, "-n", "report", timeout=300)
    assert res.returncode != 0
    assert "$.sut.baseline" in res.stderr and "'no-such-rev' is not a commit" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.e2e
def test_baseline_of_head_runs_through_the_dag_and_shows_no_change(tmp_path: Path) -> None:
    if not (shutil.which("cmake") and shutil.which("c++")):
        pytest.skip("cmake and a C++ compiler are needed")

    trials = {"e2e_10mb": 3, "ack_path": 2}

    def mutate(cfg: dict) -> None:
        _with_baseline("HEAD", trials=3, keep=tuple(trials))(cfg)
        cfg["scenarios"]["ack_path"]["trials"] = trials["ack_path"]
        cfg["assessment"] = {"bench": False}
        cfg["compare"] = {"max_trials": 5}

    wd = make_workdir(tmp_path, mutate)
    src = tmp_path / "src"
    head = git(src, "rev-parse", "HEAD").strip()
    branch = git(src, "symbolic-ref", "HEAD").strip()
    res = snakemake(wd, "--cores", "4", "report", timeout=400)
    assert res.returncode == 0, res.stderr[-3000:]
    base = f"baseline-{head[:12]}"

    build = json.loads((wd / "results" / "build" / base / "build.json").read_text())
    tree = wd / "results" / "baseline-src" / head[:12]
    assert Path(build["bin_dir"]).is_dir() and (tree / "broker").is_dir()
    assert git(tree, "rev-parse", "HEAD").strip() == head
    # The user's tree was never checked out: same branch, same commit, nothing changed.
    assert git(src, "symbolic-ref", "HEAD").strip() == branch and git(src, "rev-parse", "HEAD").strip() == head
    assert git(src, "status", "--porcelain") == ""

    # Trial k of both sides ran before any trial k + 1, and within trial k the candidate first for odd k, the
    # baseline first for even k (ABBA): neither blocks nor a fixed order.
    started = sorted((json.loads(m.read_text())["started_utc"], int(m.parent.name[1:]), m.parts[-4])
                     for m in (wd / "results" / "runs").glob("*/*/t*/manifest.json"))
    assert len(started) == 2 * sum(trials.values())
    assert [k for _, k, _ in started] == sorted(k for _, k, _ in started), started
    for k in {k for _, k, _ in started}:
        first = "baseline" if k % 2 == 0 else "candidate"
        side = [(t, "baseline" if sut.startswith("baseline-") else "candidate") for t, kk, sut in started if kk == k]
        assert max(t for t, sd in side if sd == first) <= min(t for t, sd in side if sd != first), (k, started)
    (cmp_path,) = (wd / "results" / "compare").glob(f"*/{base}/comparison.json")
    comp = json.loads(cmp_path.read_text())
    rows = {s["scenario"]: s for s in comp["scenarios"]}
    assert set(rows) == {"e2e_10mb", "ack_path"}
    # e2e_10mb completes: more trials, interleaved, until its delivered MB/s ratio decides or each side has 5;
    # ack_path times out (no delivered rate): nothing to extend.
    ext = rows["e2e_10mb"]["extension"]
    assert ext["stopped"] in ("decided", "cap") and 1 <= ext["rounds"] <= 5 - trials["e2e_10mb"], ext
    assert len(ext["runs"]) == 2 * ext["rounds"] and all("/extra/" in r for r in ext["runs"])
    assert ext["decision"] != "change" and ext["ratio"]["lo"] is not None, ext
    assert rows["ack_path"]["extension"]["stopped"] == "not extendable"
    for s in rows.values():
        assert s["figures"], s["scenario"]
        n = trials[s["scenario"]] + s["extension"]["rounds"]
        for f in s["figures"]:
            assert f["baseline"]["n"] == f["candidate"]["n"] == n or f["p_value"] is None, f
            assert f["status"] == "no detectable change", f
    # ack_path times out on both sides by design: "still fails" for that scenario, but it does not settle the claim.
    assert rows["ack_path"]["problem_fixed"]["verdict"] == "refuted"
    assert rows["e2e_10mb"]["problem_fixed"]["verdict"] == "inconclusive"
    assert comp["problem_fixed"]["verdict"] == "inconclusive", comp["problem_fixed"]
    assert "settled over" in comp["problem_fixed"]["reason"]

    (report,) = (wd / "reports").glob("*/assessment.html")
    text = report.read_text()
    assert 'id="before-after"' in text and "no detectable change" in text
    assert "The problem is fixed: inconclusive" in text and "Against the baseline <code>" in text
    assert (report.parent / "assessment.pdf").stat().st_size > 0
