from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from stallscope import schemas
from stallscope.experiment.bench import sink_shapes
from stallscope.experiment.config import load_config

from ..experiment.procs_helpers import wait_for
from ..outputs import check_outputs
from .conftest import REPO, make_workdir, snakemake, venv_env

pytestmark = pytest.mark.snakemake


def _manifests(wd: Path) -> list[dict]:
    return [schemas.read_json(p, "manifest") for p in sorted(wd.glob("results/runs/*/*/t*/manifest.json"))]


def test_runs_every_scenario_has_logs_and_valid_manifest(runs_workdir: Path) -> None:
    cfg = yaml.safe_load((runs_workdir / "config.yaml").read_text())
    ms = _manifests(runs_workdir)
    assert sorted(m["scenario"] for m in ms) == sorted(cfg["scenarios"])
    for m in ms:
        d = runs_workdir / "results" / "runs" / m["sut"]["id"] / m["scenario"] / "t1"
        assert (d / "client.log").stat().st_size > 0
        assert len(list(d.glob("broker_*.log"))) == m["params"]["brokers"]
        assert m["harness"]["ok"], m["harness"]


def test_runs_every_json_and_csv_of_the_dag_is_0644_and_schema_valid(runs_workdir: Path) -> None:
    """Every stage's JSON and CSV files, the build's and the benchmark's too, over the whole DAG's results."""
    found = check_outputs(runs_workdir / "results")
    assert {"build", "bench", "manifest", "events", "lines", "metrics", "claims"} <= set(found), sorted(found)
    check_outputs(runs_workdir / "reports")


def test_runs_bench_measures_the_sink_at_every_scenario_shape(runs_workdir: Path) -> None:
    """One raw-sink entry per distinct shape of the config's scenarios, each with every repeat, and the healthy
    runs' bound read against the sink of their own shape."""
    cfg = load_config(runs_workdir / "config.yaml")
    (bench,) = runs_workdir.glob("results/bench/*/bench.json")
    at = schemas.read_json(bench, "bench")["raw_sink_at"]
    assert [a["shape"] for a in at] == sink_shapes(cfg)
    assert len(at) < len(cfg["scenarios"])  # shapes shared by several scenarios are measured once
    assert all(len(a["samples_mb_s"]) == cfg["bench"]["sink_repeats"] and a["median_mb_s"] > 0 for a in at), at
    (claims,) = runs_workdir.glob("results/assessment/*/claims.json")
    none = [r["bound"] for r in schemas.read_json(claims, "claims")["runs"] if r["bound"]["cause"] == "none"]
    assert all("same connections and size" in b["summary"] for b in none), none


def test_runs_clean_source_gives_sut_without_dirty_suffix(runs_workdir: Path) -> None:
    assert all(re.fullmatch(r"[0-9a-f]{12}", m["sut"]["id"]) for m in _manifests(runs_workdir))


def test_runs_concurrent_scenarios_do_not_share_ports_or_files(runs_workdir: Path) -> None:
    ms = _manifests(runs_workdir)

    def span(m: dict) -> tuple[datetime, datetime]:
        return datetime.fromisoformat(m["started_utc"]), datetime.fromisoformat(m["ended_utc"])

    overlapping = [(a, b) for i, a in enumerate(ms) for b in ms[i + 1:]
                   if span(a)[0] < span(b)[1] and span(b)[0] < span(a)[1]]
    assert overlapping, "with --cores 4 and 2 threads per run, two runs should overlap"
    for a, b in overlapping:
        assert not set(a["ports"].values()) & set(b["ports"].values())
        assert {p["pid"] for p in a["processes"]}.isdisjoint({p["pid"] for p in b["processes"]})


def test_runs_changed_scenario_parameters_rerun_only_that_scenario(runs_workdir: Path, tmp_path: Path) -> None:
    cfg = yaml.safe_load((runs_workdir / "config.yaml").read_text())
    cfg["scenarios"]["partial_header"]["total_bytes"] = 41943040
    (runs_workdir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    try:
        res = snakemake(runs_workdir, "-n", "runs")
        assert res.returncode == 0, res.stderr[-2000:]
        planned = re.findall(r"output: (results/runs/\S+)/manifest\.json", res.stdout + res.stderr)
        assert planned and all("/partial_header/" in p for p in planned), planned
    finally:
        cfg["scenarios"]["partial_header"]["total_bytes"] = 52428800
        (runs_workdir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))


def test_runs_uncommitted_change_in_source_gives_dirty_sut(runs_workdir: Path) -> None:
    src = Path(yaml.safe_load((runs_workdir / "config.yaml").read_text())["sut"]["source"])
    target = src / "src" / "wire.h"
    original = target.read_text()
    target.write_text(original + "// local edit\n")
    try:
        res = snakemake(runs_workdir, "-n", "runs")
        assert re.search(r"results/runs/[0-9a-f]{12}-dirty-[0-9a-f]{8}/", res.stdout + res.stderr)
    finally:
        target.write_text(original)
    res = snakemake(runs_workdir, "-n", "runs")
    assert "-dirty-" not in res.stdout + res.stderr


def test_lint_reports_nothing_about_rules() -> None:
    exe = Path(sys.executable).parent / "snakemake"
    res = subprocess.run([str(exe), "--lint", "--snakefile", str(REPO / "Snakefile")], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    out = res.stdout + res.stderr
    assert "Lints for rule" not in out, out[-3000:]


def _descendants(root: int) -> list[tuple[int, list[str]]]:
    parent: dict[int, int] = {}
    argv: dict[int, list[str]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
                parent[int(d.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
                argv[int(d.name)] = [a.decode() for a in (d / "cmdline").read_bytes().split(b"\0") if a]
            except (OSError, ValueError):
                continue
    out, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        for child, ppid in parent.items():
            if ppid == pid:
                out.append((child, argv.get(child, [])))
                frontier.append(child)
    return out


def test_sigint_to_snakemake_during_long_run_leaves_no_process_or_port(tmp_path: Path) -> None:
    def long_keep_open(cfg: dict) -> None:
        cfg["scenarios"] = {"e2e_10mb": {**cfg["scenarios"]["e2e_10mb"], "faults": {"linger_sec": 60}}}

    wd = make_workdir(tmp_path, long_keep_open)
    exe = Path(sys.executable).parent / "snakemake"
    sm = subprocess.Popen([str(exe), "--snakefile", str(REPO / "Snakefile"), "--directory", str(wd),
                           "--configfile", str(wd / "config.yaml"), "--cores", "4", "runs"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=wd, env=venv_env(),
                          start_new_session=True)
    try:
        def started() -> list[tuple[int, list[str]]] | None:
            procs = [(p, a) for p, a in _descendants(sm.pid) if a and a[0].endswith(("refbroker", "refpub"))]
            return procs if len(procs) == 5 else None

        procs = wait_for(started, timeout_s=300)
        ports = [int(a[a.index("--port") + 1]) for _, a in procs if "--port" in a]
        time.sleep(0.5)
        # ^C at a terminal: SIGINT to Snakemake's whole foreground process group.
        os.killpg(sm.pid, signal.SIGINT)
        sm.wait(timeout=60)
    finally:
        if sm.poll() is None:
            sm.kill()
            sm.wait(timeout=10)

    def gone(pid: int) -> bool:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        return state == "Z"

    wait_for(lambda: all(gone(p) for p, _ in procs) or None, timeout_s=15)
    for port in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
    assert os.path.exists(wd / "results")
