"""Before/after on real builds: two commits of a throwaway copy of the reference broker, one whose ACK path
stalls by default and one fixed (a one-line default change), each built in a baseline worktree and run 3 times."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import git
import pytest
import yaml

from stallscope.analysis.compare_io import compare_paths
from stallscope.analysis.metrics import compute_metrics
from stallscope.experiment.baseline import baseline_source
from stallscope.experiment.build import build_broker
from stallscope.experiment.run import run_scenario
from stallscope.experiment.worktree import remove_worktree
from stallscope.logs.parse import parse_run

REPO = Path(__file__).resolve().parents[2]
DEFAULT = "  int64_t ack_stall_after = 0;"
TRIALS = 3

pytestmark = pytest.mark.e2e


def _commit(repo: git.Repo, header: Path, value: int, when: str) -> str:
    text = header.read_text()
    old = next(line for line in text.splitlines() if line.startswith("  int64_t ack_stall_after = "))
    header.write_text(text.replace(old, DEFAULT.replace("= 0;", f"= {value};")))
    repo.git.add(A=True)
    stamp = datetime.fromisoformat(when).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
    actor = git.Actor("stallscope", "dev@stallscope.invalid")
    return repo.index.commit(f"ack_stall_after default {value}", author=actor, committer=actor,
                             author_date=stamp, commit_date=stamp).hexsha


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if not (shutil.which("cmake") and (shutil.which("c++") or shutil.which("g++"))):
        pytest.skip("cmake and a C++ compiler are needed to build the reference broker")
    tmp = tmp_path_factory.mktemp("before_after")
    src = tmp / "repo" / "broker"
    shutil.copytree(REPO / "workflow" / "broker", src, ignore=shutil.ignore_patterns("build*"))
    header = src / "src" / "broker.h"
    assert DEFAULT in header.read_text()
    repo = git.Repo.init(tmp / "repo")
    stalls = _commit(repo, header, 1000, "2026-01-01T00:00:00+00:00")
    fixed = _commit(repo, header, 0, "2026-02-01T00:00:00+00:00")
    assert repo.is_dirty(untracked_files=True) is False
    cfg = {"sut": {"kind": "reference", "source": str(src)},
           "run": {"ready_timeout_s": 20, "client_grace_s": 10, "stop_grace_s": 3, "progress_interval_s": 1},
           "defaults": {"brokers": 2, "threads_per_broker": 1, "message_size": 1024, "ack_timeout_s": 2},
           "scenarios": {"e2e_10mb": {"description": "8 MiB, no fault injected: only the build's default differs.",
                                      "expected_cause": "none", "total_bytes": 8 * 1024**2}}}
    config = tmp / "config.yaml"
    config.write_text(yaml.safe_dump(cfg))
    out: dict[str, Path] = {}
    for name, rev in (("stalls", stalls), ("fixed", fixed)):
        tree_src = baseline_source(src, rev, tmp / "worktrees")
        assert tree_src != src and (tree_src / "src" / "broker.h").is_file()
        build = build_broker(config, tmp / "build" / name, source=tree_src)
        for label in (name, f"{name}_again") if name == "fixed" else (name,):
            for k in range(1, TRIALS + 1):
                run_dir = tmp / "runs" / label / "e2e_10mb" / f"t{k}"
                run_scenario(config, "e2e_10mb", k, build, run_dir)
                parse_run(run_dir)
                compute_metrics(run_dir)
            out[label] = tmp / "runs" / label
        remove_worktree(src, tree_src.parent)
        assert not tree_src.exists()
    assert repo.head.commit.hexsha == fixed and not repo.is_dirty()  # the user's tree was never checked out
    out["tmp"] = tmp
    return out


def _compare(archives: dict[str, Path], a: str, b: str) -> dict:
    out = archives["tmp"] / f"{a}-{b}.json"
    compare_paths(archives[a], archives[b], out)
    return json.loads(out.read_text())


def test_stalling_then_fixed_is_supported(archives: dict[str, Path]) -> None:
    got = _compare(archives, "stalls", "fixed")
    assert got["problem_fixed"]["verdict"] == "supported", got["problem_fixed"]
    rows = {r["figure"]: r for r in got["scenarios"][0]["figures"]}
    assert rows["ack_completeness"]["baseline"]["n"] == TRIALS and rows["ack_completeness"]["candidate"]["median"] == 1


def test_swapped_is_refuted(archives: dict[str, Path]) -> None:
    assert _compare(archives, "fixed", "stalls")["problem_fixed"]["verdict"] == "refuted"


def test_same_commit_twice_is_inconclusive_with_no_detectable_change(archives: dict[str, Path]) -> None:
    got = _compare(archives, "fixed", "fixed_again")
    assert got["problem_fixed"]["verdict"] == "inconclusive"
    rows = {r["figure"]: r for r in got["scenarios"][0]["figures"]}
    assert rows["delivered_mb_s"]["status"] == "no detectable change"
    assert rows["ack_completeness"]["status"] == "no detectable change"
