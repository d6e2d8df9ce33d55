"""A known slowdown is detected: two commits of a throwaway copy of the reference broker, the second with extra
copies of every payload byte it receives (never in the shipped broker), built in baseline worktrees and run
interleaved until the comparison decides (``shared.sequential``); the candidate must read as a regression of
delivered MB/s, with the ratio of medians and its interval below 1.

The scenario is one broker with one connection, 1 GiB: the receive path alone is timed, so the copies show at their
own size (4 brokers x 4 connections on 2 cores measure the scheduler: there, 10 trials a side did not decide a
10 % copy, ratio 0.888 [0.749, 1.020]). The slowdown must stand well above the noise the comparison reports: one
extra copy (-10 to -16 % here) went undecided in one CI run after 10 trials a side (-10.8 %, p = 0.089, smallest
detectable change 11.1 %), so the candidate copies four times: on this 2-core machine -19.4 %, -19.4 %, -24.1 %,
-25.8 %, each decided after 4 trials a side, about 20 s with the builds. The figure is printed (pytest -s); CI runs
it with --run-long.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import git
import pytest
import yaml

from stallscope.analysis.metrics import compute_metrics
from stallscope.experiment.baseline import baseline_source
from stallscope.experiment.build import build_broker
from stallscope.experiment.run import run_scenario
from stallscope.experiment.worktree import remove_worktree
from stallscope.logs.parse import parse_run
from stallscope.schemas import read_json
from stallscope.shared import compare, sequential
from stallscope.shared.trialstats import key_figures

REPO = Path(__file__).resolve().parents[2]
ANCHOR = "      got += static_cast<uint64_t>(r.ret);\n      walk->feed(dst, got);\n"
COPIES = 4  # about -20 %: twice the smallest change 10 trials a side detected in CI (11 %)
EXTRA_COPY = f"""      {{  // test-only slowdown: {COPIES} extra copies of every payload byte received
        static thread_local std::vector<char> extra_copy(kRecvChunk + 64 * 1024);
        for (int pass = 0; pass < {COPIES}; ++pass) {{
          std::memcpy(extra_copy.data(), dst + got, static_cast<size_t>(r.ret));
          asm volatile("" : : "r"(extra_copy.data()) : "memory");
        }}
      }}
"""
TRIALS, MAX_TRIALS = 3, 10

pytestmark = [pytest.mark.e2e, pytest.mark.long]


def _commit(repo: git.Repo, message: str, when: str) -> str:
    repo.git.add(A=True)
    stamp = datetime.fromisoformat(when).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
    actor = git.Actor("stallscope", "dev@stallscope.invalid")
    return repo.index.commit(message, author=actor, committer=actor, author_date=stamp, commit_date=stamp).hexsha


def test_an_extra_copy_in_the_broker_reads_as_a_regression_with_its_interval(tmp_path: Path) -> None:
    if not (shutil.which("cmake") and (shutil.which("c++") or shutil.which("g++"))):
        pytest.skip("cmake and a C++ compiler are needed to build the reference broker")
    src = tmp_path / "repo" / "broker"
    shutil.copytree(REPO / "workflow" / "broker", src, ignore=shutil.ignore_patterns("build*"))
    repo = git.Repo.init(tmp_path / "repo")
    before = _commit(repo, "reference broker", "2026-01-01T00:00:00+00:00")
    conn = src / "src" / "broker_conn.cc"
    text = conn.read_text()
    assert ANCHOR in text
    conn.write_text(text.replace("#include <cstring>\n", "#include <cstring>\n#include <vector>\n")
                    .replace(ANCHOR, EXTRA_COPY + ANCHOR))
    after = _commit(repo, "one extra copy of every payload byte", "2026-02-01T00:00:00+00:00")
    cfg = {"sut": {"kind": "reference", "source": str(src)},
           "run": {"ready_timeout_s": 20, "client_grace_s": 20, "stop_grace_s": 3, "progress_interval_s": 5},
           "defaults": {"brokers": 1, "threads_per_broker": 1, "message_size": 1024, "ack_timeout_s": 60},
           "scenarios": {"healthy": {"description": "1 GiB of 1 KiB messages to one broker, no fault",
                                     "expected_cause": "none", "total_bytes": 1024**3}}}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(cfg))
    builds = {}
    for side, rev in ((sequential.BASELINE, before), (sequential.CANDIDATE, after)):
        tree = baseline_source(src, rev, tmp_path / "worktrees")
        builds[side] = build_broker(config, tmp_path / "build" / side, source=tree)
        remove_worktree(src, tree.parent)

    def draw(side: str, k: int) -> tuple[float | None, str]:
        out = tmp_path / "runs" / side / f"t{k}"
        run_scenario(config, "healthy", k, builds[side], out)
        parse_run(out)
        return key_figures(read_json(compute_metrics(out), "metrics"))["delivered_mb_s"], str(out)

    base: list[float] = []
    cand: list[float] = []
    for k in range(1, TRIALS + 1):  # the configured trials, interleaved too
        for side, values in ((sequential.BASELINE, base), (sequential.CANDIDATE, cand)):
            value, _ = draw(side, k)
            assert value is not None
            values.append(value)
    ext = sequential.extend("delivered_mb_s", base, cand, draw, max_trials=MAX_TRIALS)
    row = compare.compare_figure("delivered_mb_s", ext.baseline, ext.candidate)
    print(f"\nextra copy: {row['relative_change']:+.1%}, ratio {row['ratio']['ratio']:.3f} "
          f"[{row['ratio']['lo']:.3f}, {row['ratio']['hi']:.3f}], p = {row['p_value']:.3g}, "
          f"{len(ext.baseline)} vs {len(ext.candidate)} trials ({ext.rounds} extra pairs, {ext.stopped})")
    assert row["status"] == "regressed", (row["note"], ext.baseline, ext.candidate)
    assert row["ratio"]["hi"] < 1 - compare.MIN_CHANGE or ext.stopped == "cap", row["ratio"]
    assert ext.to_dict()["decision"] in ("change", "undecided")
