"""The DAG through a real one-node SLURM cluster (`.ci/slurm.sh up`) with workflow/profiles/slurm (issue 6).

Two runs of a scenario never measure the same stalls or goodput (a second local run of the same config can
diagnose another bottleneck), so "the same report as a local run" is checked twice:
- against an independent local run of the same config and SUT, on everything a run does not measure
  (runs, parameters, SUT, claims and their not-run status, diagnosed runs; see ``normalise``);
- against a local re-analysis of the SLURM run's own raw logs (parse, metrics, assess, render), byte for byte
  apart from the generation time: no stage depends on the node or the executor it ran on.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from pypdf import PdfReader

from ..workflow.conftest import snakemake, venv_env
from .conftest import LOCAL_RULES, Runs, job_stats, slurm_cmd, slurm_snakemake, squeue

pytestmark = pytest.mark.slurm

# Facts that differ between two executions of the same run by construction: where, as which job, when, with
# which processes and ports, from which path; and the stallscope commit, which the tree under test may move.
VOLATILE = {"generated_utc", "started_utc", "ended_utc", "host", "hosts", "hostname", "slurm", "slurm_job_id",
            "slurm_node", "pid", "pids", "port", "ports", "source", "bin_dir", "stallscope_commit", "stallscope"}


def _drop(x: Any, keys: set[str]) -> Any:
    if isinstance(x, dict):
        return {k: _drop(v, keys) for k, v in x.items() if k not in keys}
    if isinstance(x, list):
        return [_drop(v, keys) for v in x]
    return x


def normalise(claims: dict[str, Any], measured: bool) -> dict[str, Any]:
    """claims.json without volatile facts; with ``measured=False`` also without what a run measures.

    What a run measures (stall counts, goodput, ACK timing) decides evidence, reasons, verdicts other than
    not_run/harness_error, and the diagnosis; it is kept only when both sides analysed the same raw logs.
    """
    c = _drop(claims, VOLATILE)
    if measured:
        return c
    for r in c["runs"]:
        for k in ("key_figures", "bound", "evidence"):  # measured: shares, counts, what a run's logs happen to hold
            r.pop(k, None)
    c["claims"] = [{"id": k["id"], "expert": k.get("expert"), "title": k["title"], "statement": k["statement"],
                    "settle": k.get("settle"),
                    "verdict": k["verdict"] if k["verdict"] in ("not_run", "harness_error") else "assessed"}
                   for k in c["claims"]]
    c["diagnosis"] = [{"run_id": d["run_id"], "scenario": d["scenario"], "expected_cause": d.get("expected_cause")}
                      for d in c.get("diagnosis") or []]
    for k in ("verdict_counts", "summary", "next_steps"):
        c.pop(k, None)
    return c


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split()


def run_table(page: str) -> list[dict[str, str]]:
    """Each run of the report's appendix (a ``div.run`` with its key-value table) as one {field: text}: the run id,
    its table's rows, and the SUT row split into SUT, stallscope, host, SLURM, started (UTC) and origin."""
    runs = re.findall(r'<div class="run" id="[^"]*">\s*<h4>(.*?)</h4>\s*<table class="runs">(.*?)</table>', page, re.S)
    assert runs, "no run in assessment.html"
    out = []
    for head, table in runs:
        row: dict[str, str] = {"run": re.search(r"<code>(.*?)</code>", head, re.S)[1].strip()}
        for th, td in re.findall(r"<tr><th[^>]*>(.*?)</th><td[^>]*>(.*?)</td></tr>", table, re.S):
            row[" ".join(_text(th))] = " ".join(_text(td))
        parts = row.pop("SUT · stallscope · host").split(" · ")
        row |= {"SUT": parts[0], "stallscope": parts[1], "host": parts[2], "SLURM": "—"}
        for part in parts[3:]:
            if part.startswith("SLURM "):
                row["SLURM"] = part.removeprefix("SLURM ")
            elif part.startswith("started "):
                row["started (UTC)"], _, row["origin"] = part.removeprefix("started ").partition(" UTC ")
        out.append(row)
    return out


def _report_dir(wd: Path) -> Path:
    dirs = [p.parent for p in wd.glob("reports/*/claims.json") if not p.parent.name.startswith("ingested-")]
    assert len(dirs) == 1, dirs
    return dirs[0]


def _manifests(wd: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(wd.glob("results/runs/*/*/t*/manifest.json"))]


def _submitted(log: str) -> dict[str, list[str]]:
    """{rule: [SLURM job id, ...]} from the plugin's "submitted with SLURM jobid N (log: .../rule_X/...)" lines."""
    out: dict[str, list[str]] = {}
    for jid, rule in re.findall(r"submitted with SLURM jobid (\d+) \(log: \S*/rule_(\w+)/", log):
        out.setdefault(rule, []).append(jid)
    return out


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def _stamp_free(text: str, generated: str) -> str:
    """Mask the generation time (claims.json's generated_utc) and the stallscope commit in a rendered report."""
    text = text.replace(generated, "<generated>")
    return re.sub(r"stallscope [0-9a-f]{7,40}(-dirty)?", "stallscope <commit>", text)


# --- the SLURM run ---------------------------------------------------------------------------------------------


def test_slurm_every_node_rule_ran_as_a_slurm_job_and_manifests_record_it(runs: Runs) -> None:
    log = runs.slurm_log
    submitted = _submitted(log)
    planned = set(re.findall(r"^rule (\w+):$", log, re.M))
    local = set(re.findall(r"^localrule (\w+):$", log, re.M))
    assert planned and planned == set(submitted), (planned, submitted)
    assert not planned & LOCAL_RULES and {"render_report", "build_index"} <= local, (planned, local)
    # Every node rule declares its own run time (the CLI defaults used here give none but 10 min to others).
    for rule, block in re.findall(r"^rule (\w+):\n(.*?)^Shell command", log, re.M | re.S):
        res = re.search(r"resources: (.*)", block)
        assert res and "runtime=" in res[1] and "mem_mb=" in res[1], (rule, block)

    ms = _manifests(runs.slurm_wd)
    assert len(ms) == 2
    all_jobs = {}
    for line in squeue("-t", "all", "-o", "%i|%k").splitlines():
        jid, comment = line.split("|", 1)
        all_jobs[jid] = comment
    for m in ms:
        job, node = m["slurm"]["job_id"], m["slurm"]["node"]
        assert job and node, m["slurm"]
        assert job in submitted["run_scenario"], (job, submitted)
        # the job SLURM knows under that id ran this scenario's run_scenario
        assert all_jobs.get(job, "").startswith("rule_run_scenario") and f"_{m['scenario']}_" in all_jobs[job]
    for m in _manifests(runs.local_wd):
        assert m["slurm"] == {"job_id": None, "node": None}


def test_slurm_report_run_table_shows_job_and_node(runs: Runs) -> None:
    rows = {r["run"].split()[0]: r for r in run_table((_report_dir(runs.slurm_wd) / "assessment.html").read_text())}
    for m in _manifests(runs.slurm_wd):
        assert rows[m["run_id"]]["SLURM"] == f"job {m['slurm']['job_id']} on {m['slurm']['node']}", rows[m["run_id"]]
    pdf = " ".join(_pdf_text(_report_dir(runs.slurm_wd) / "assessment.pdf").split())  # lines wrap in the PDF
    for m in _manifests(runs.slurm_wd):
        assert f"job {m['slurm']['job_id']} on {m['slurm']['node']}" in pdf


def test_slurm_report_matches_a_local_run_of_the_same_config_and_sut(runs: Runs) -> None:
    s_dir, l_dir = _report_dir(runs.slurm_wd), _report_dir(runs.local_wd)
    assert s_dir.name == l_dir.name, "both runs must build the same SUT"
    s_claims, l_claims = (json.loads((d / "claims.json").read_text()) for d in (s_dir, l_dir))
    assert normalise(s_claims, measured=False) == normalise(l_claims, measured=False)

    def fixed_columns(d: Path) -> list[dict[str, str]]:
        rows = run_table((d / "assessment.html").read_text())
        return [{k: v for k, v in r.items() if k in ("run", "parameters", "SUT", "harness", "origin")}
                for r in rows]  # the bound and evidence rows hold measured shares

    assert fixed_columns(s_dir) == fixed_columns(l_dir)
    for d in (s_dir, l_dir):  # both PDFs carry every claim and every run (line breaks aside)
        text = "".join(_pdf_text(d / "assessment.pdf").split())
        for c in s_claims["claims"]:
            assert "".join(c["title"].split()) in text, c["title"]
        for r in s_claims["runs"]:
            assert r["run_id"] in text


# --- rerun one stage ---------------------------------------------------------------------------------------


def poll(cond, timeout_s: float) -> None:
    """Retry ``cond`` every 0.5 s until true (bounded)."""
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout_s} s")
        time.sleep(0.5)


def _mtimes(wd: Path, pattern: str) -> dict[str, int]:
    return {str(p.relative_to(wd)): p.stat().st_mtime_ns for p in wd.glob(pattern)}


@pytest.fixture(scope="module")
def reanalysed(runs: Runs, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A copy of the SLURM run's working directory, its raw run logs parsed, assessed and rendered again
    locally. Runs in the background (while the forcerun test uses the cluster); the test joins it."""
    wd = tmp_path_factory.mktemp("reanalysed") / "wd"
    shutil.copytree(runs.slurm_wd, wd, symlinks=True)
    cfg = yaml.safe_load((wd / "config.yaml").read_text())
    out: dict[str, Any] = {"wd": wd, "before": json.loads((_report_dir(runs.slurm_wd) / "claims.json").read_text()),
                           "html": (_report_dir(runs.slurm_wd) / "assessment.html").read_text(),
                           "pdf": _pdf_text(_report_dir(runs.slurm_wd) / "assessment.pdf"), "cfg": cfg}

    def go() -> None:
        t0 = time.monotonic()
        out["res"] = snakemake(wd, "--cores", "2", "report", "--forcerun", "parse_run", timeout=240)
        out["seconds"] = time.monotonic() - t0

    out["thread"] = threading.Thread(target=go)
    out["thread"].start()
    return out


CHAIN = {"parse_run": 1, "compute_metrics": 1, "diagnose_runs": 1, "assess_claims": 1, "render_report": 1,
         "build_index": 1, "report": 1}


def test_slurm_forcerun_one_parse_reruns_only_its_chain(runs: Runs, reanalysed: dict[str, Any]) -> None:
    wd = runs.slurm_wd
    nothing = snakemake(wd, "-n", "report")
    assert nothing.returncode == 0 and "Nothing to be done" in nothing.stdout + nothing.stderr, \
        (nothing.stdout + nothing.stderr)[-3000:]
    events = sorted(wd.glob("results/runs/*/*/t1/events.csv"))
    target = events[0].relative_to(wd).as_posix()
    scenario = events[0].parts[-3]

    dry = snakemake(wd, "-n", "report", "--forcerun", target)
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert job_stats(dry.stdout + dry.stderr) == CHAIN
    parsed = re.findall(r"output: (results/runs/\S+/events\.csv)", dry.stdout + dry.stderr)
    assert parsed == [target], parsed

    keep = _mtimes(wd, "results/runs/*/*/t1/*")
    res = slurm_snakemake(wd, runs.partition, "report", "--forcerun", target)
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-4000:]
    assert job_stats(log) == CHAIN
    assert set(_submitted(log)) == {"parse_run", "compute_metrics", "diagnose_runs", "assess_claims"}
    after = _mtimes(wd, "results/runs/*/*/t1/*")
    changed = {p for p in keep if after.get(p) != keep[p]}
    assert changed == {p for p in keep if f"/{scenario}/t1/" in p and p.endswith(("events.csv", "lines.json",
                                                                                      "metrics.json"))}, changed


def test_slurm_stages_give_the_same_report_as_local_stages_on_the_same_logs(reanalysed: dict[str, Any]) -> None:
    reanalysed["thread"].join(timeout=300)
    res = reanalysed["res"]
    assert res.returncode == 0, res.stderr[-3000:]
    assert job_stats(res.stdout + res.stderr)["parse_run"] == 2
    d = _report_dir(reanalysed["wd"])
    again = json.loads((d / "claims.json").read_text())
    assert _drop(again, {"generated_utc", "stallscope"}) == _drop(reanalysed["before"], {"generated_utc", "stallscope"})
    t_again, t_before = again["generated_utc"], reanalysed["before"]["generated_utc"]
    assert _stamp_free((d / "assessment.html").read_text(), t_again) == _stamp_free(reanalysed["html"], t_before)
    assert _stamp_free(_pdf_text(d / "assessment.pdf"), t_again) == _stamp_free(reanalysed["pdf"], t_before)


# --- ^C ------------------------------------------------------------------------------------------------------


def _our_brokers(wd: Path) -> list[tuple[int, str]]:
    """Live refbroker/refpub processes started from ``wd``'s build."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            argv = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and str(wd) in argv and re.search(r"/(refbroker|refpub)\b", argv):
            found.append((int(d.name), argv))
    return found


def test_slurm_sigint_cancels_jobs_and_leaves_no_broker(runs: Runs) -> None:
    wd = runs.slurm_wd
    cfg = yaml.safe_load((wd / "config.yaml").read_text())
    first = next(iter(cfg["scenarios"].values()))
    cfg["scenarios"]["sigint_probe"] = {**first, "faults": {"linger_sec": 120}}
    (wd / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    sut = next(wd.glob("results/runs/*/*/t1/manifest.json")).parts[-4]
    target = f"results/runs/{sut}/sigint_probe/t1/manifest.json"
    sm = subprocess.Popen(slurm_cmd(wd, runs.partition, target, timeout_s=None),  # no `timeout`: ^C is the test
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=wd, env=venv_env(),
                          start_new_session=True)
    try:
        poll(lambda: "RUNNING" in squeue("-o", "%T") and len(_our_brokers(wd)) >= 2, timeout_s=120)
        time.sleep(0.5)
        os.killpg(sm.pid, signal.SIGINT)  # ^C at a terminal: the whole foreground process group
        sm.wait(timeout=90)
    finally:
        if sm.poll() is None:
            os.killpg(sm.pid, signal.SIGKILL)
            sm.wait(timeout=10)
    poll(lambda: squeue() == "", timeout_s=60)
    poll(lambda: not _our_brokers(wd), timeout_s=30)
    # scancel is asynchronous: the run, stopped by SLURM's SIGTERM, may still write after Snakemake has cleaned
    # up and exited. It keeps its evidence as manifest.interrupted.json, never as the manifest that marks the
    # run done, so the next Snakemake redoes it.
    assert not (wd / target).exists()
    late = (wd / target).with_name("manifest.interrupted.json")
    if late.exists():
        assert not json.loads(late.read_text())["harness"]["ok"]
