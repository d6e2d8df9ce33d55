"""Stage entry ``stallscope assess``: evaluate the panel's claims over the runs of one commit.

Reads each run directory (``shared.rundir``), the runs' diagnoses (``diagnoses.json`` of ``stallscope diagnose``:
outcome, diagnosis and bound, copied as they are), the optional config (its ``scenarios`` map) and optional extra
inputs (``--bench`` bench.json); writes ``claims.json`` (``claims/1``) atomically. Exits normally whatever the
verdicts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.panel import kinds
from stallscope.panel.catalogue import Catalogue, load_catalogue
from stallscope.panel.context import Context, load_config_scenarios, load_extras
from stallscope.panel.overtrials import evaluate_over_trials
from stallscope.panel.verdicts import (
    HARNESS_ERROR,
    INCONCLUSIVE,
    MAX_EVIDENCE_PER_CLAIM,
    NOT_RUN,
    OVERCLAIM,
    PRIORITY,
    Verdict,
)
from stallscope.shared.figures import KEY_FIGURES
from stallscope.shared.manifest import network_summary
from stallscope.shared.provenance import stallscope_facts
from stallscope.shared.readable import input_findings
from stallscope.shared.rundir import RunDir, dig, read_run_dir
from stallscope.shared.summary import FILE_NAME as SUMMARY_FILE
from stallscope.shared.summary import write_summary
from stallscope.shared.vocabulary import NONE

#: Verdicts whose claim is still open: their settle hint becomes a next step (a refuted claim is settled).
OPEN_VERDICTS = (HARNESS_ERROR, OVERCLAIM, INCONCLUSIVE, NOT_RUN)


def check_mixing(runs: list[RunDir], allow_mixed: bool) -> str | None:
    """Refuse runs of different SUT ids or hosts unless allowed; return the note for a mixed assessment."""
    notes: list[str] = []
    for what, key in (("SUT commits", lambda r: r.sut_id if r.manifest else None),
                      ("hosts", lambda r: r.hostname)):
        seen: dict[str, RunDir] = {}
        for r in runs:
            k = key(r)
            if k is not None:
                seen.setdefault(k, r)
        if len(seen) > 1:
            (ka, ra), (kb, rb) = list(seen.items())[:2]
            if not allow_mixed:
                raise StallscopeError(None, None, f"runs of different {what}: {ra.dir} ({ka}) and {rb.dir} ({kb}); "
                                      "assess them separately or pass --allow-mixed")
            notes.append(f"runs of {len(seen)} different {what} ({', '.join(seen)}) were combined")
    return "; ".join(notes) + "." if notes else None


def _key_figures(r: RunDir) -> dict[str, Any]:
    return {name: r.get(path) for name, path in KEY_FIGURES.items()}


def run_entry(r: RunDir, configured: dict[str, dict[str, Any]], diagnosed: dict[str, Any]) -> dict[str, Any]:
    """The runs-table row of one run: provenance, figures, its outcome and throughput bound (``diagnosed``: its
    diagnoses.json entry) and its evidence."""
    m = r.manifest or {}
    return {
        "run_id": r.run_id, "scenario": r.scenario, "trial": m.get("trial"), "dir": str(r.dir),
        "origin": m.get("origin") or r.get("origin"), "expected_cause": m.get("expected_cause"),
        "params": m.get("params") or {}, "faults": m.get("faults") or {},
        "host": r.hostname, "slurm_job_id": dig(m, "slurm.job_id"), "slurm_node": dig(m, "slurm.node"),
        "started_utc": m.get("started_utc"), "ended_utc": m.get("ended_utc"),
        "sut_id": r.sut_id, "stallscope_commit": dig(m, "stallscope.commit"),
        "harness_ok": r.harness_ok, "harness_errors": list(r.harness_errors),
        "publish_ok": r.get("outcome.publish_ok"), "key_figures": _key_figures(r),
        "kind": _kind(r, configured), "attempt": _attempt(r), "input_findings": input_findings(r),
        "not_understood": list(dig(m, "files.not_understood") or []),
        "outcome": diagnosed["outcome"],
        "bound": diagnosed["bound"],
        "evidence": r.get("evidence"),
    } | ({"network": net} if (net := network_summary(m)) else {}) | (
        {"resources": res} if (res := _resources(m)) else {})


def _resources(m: dict[str, Any]) -> dict[str, Any] | None:
    """Peak memory per process, shm held and build time of a run of the real Embarcadero (None for others)."""
    e = m.get("embarcadero")
    if not isinstance(e, dict):
        return None
    build = e.get("build") or {}
    return {"peak_rss_kb": dict(e.get("peak_rss_kb") or {}), "shm_bytes_at_end": e.get("shm_bytes_at_end"),
            "build_wall_s": build.get("wall_s"), "build_jobs": build.get("jobs")}


def _kind(r: RunDir, configured: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What the run is by its parameters, and which scenarios' claims it counts for (``panel.kinds``)."""
    return {"label": kinds.label(kinds.kind_params(r)), "bytes": kinds.run_bytes(kinds.kind_params(r)),
            "scenarios": [r.scenario] if r.origin != "ingested" else
            kinds.matching_scenarios(kinds.kind_params(r), kinds.known_scenarios(configured), configured)}


def _attempt(r: RunDir) -> dict[str, Any] | None:
    """The driver's trial and attempt of an ingested run (null for other runs); superseded ones judge nothing."""
    a = dig(r.manifest, "attempt")
    if not isinstance(a, dict):
        return None
    return {"trial": dig(r.manifest, "trial"), "number": a.get("number"), "of": a.get("of"),
            "final": a.get("final"), "result": a.get("result")}


def _sut_stamp(runs: list[RunDir]) -> dict[str, Any]:
    sut: dict[str, Any] = {"id": "unknown", "commit": None, "is_dirty": None, "commit_date": None,
                           "commit_subject": None, "source": None}
    for r in runs:
        if r.manifest:
            s = r.manifest.get("sut") or {}
            return {k: s.get(k, sut[k]) for k in sut} | ({"patches": s["patches"]} if s.get("patches") else {})
    return sut


def verdict_entry(cat: Catalogue, v: Verdict) -> dict[str, Any]:
    """The claims.json entry of one verdict: at most ``MAX_EVIDENCE_PER_CLAIM`` evidence items, the exact total
    in ``evidence_count``."""
    c = next(c for c in cat.claims if c.id == v.claim_id)
    kept = v.evidence[:MAX_EVIDENCE_PER_CLAIM]
    return {"id": c.id, "expert": c.expert, "title": c.title, "statement": c.statement, "verdict": v.verdict,
            "reason": v.reason, "runs": list(v.runs), "evidence": [e.to_dict() for e in kept],
            "evidence_count": max(v.evidence_count, len(v.evidence)), "settle": v.settle, "error": v.error,
            **({"trials": [{"trial": k, "verdict": t} for k, t in v.trials], "flaky": v.flaky} if v.trials else {})}


def _summary(counts: dict[str, int], runs: list[RunDir], diagnosis: list[dict[str, Any]], sut_id: str) -> str:
    parts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items() if n)
    causes = "; ".join(f"{d['run_id']}: {d['bottleneck'].replace('_', ' ')}" for d in diagnosis) or "no runs"
    return (f"{sum(counts.values())} claims over {len(runs)} runs of SUT {sut_id}: {parts}. "
            f"Diagnosis: {causes}.")


def _next_steps(verdicts: list[Verdict], diagnosis: list[dict[str, Any]]) -> list[str]:
    steps: list[str] = []
    for v in sorted(verdicts, key=lambda v: PRIORITY.index(v.verdict)):
        if v.verdict in OPEN_VERDICTS and v.settle:
            steps.append(v.settle)
    for d in diagnosis:
        if d["matches_expected"] is False:
            steps.append(f"{d['run_id']}: the diagnosis names {d['bottleneck']} but the scenario injects "
                         f"{d['expected_cause']}; read its evidence and rerun the scenario.")
        elif d["bottleneck"] != NONE and d["confidence"] == "low":
            steps.append(f"{d['run_id']}: the {d['bottleneck']} diagnosis has low confidence; rerun with TCP "
                         "evidence and phase markers.")
    return list(dict.fromkeys(steps))


def matched_diagnoses(runs: list[RunDir], diagnoses: dict[str, Any]) -> list[dict[str, Any]]:
    """The diagnoses.json entries of ``runs``, in their order; refused when the file diagnosed other runs."""
    entries = diagnoses.get("runs") or []
    got, want = [e["run_id"] for e in entries], [r.run_id for r in runs]
    if got != want:
        raise StallscopeError(None, None, f"the diagnoses are of other runs ({len(got)} runs, first "
                              f"{got[:1]}) than the ones assessed ({len(want)}, first {want[:1]}): rerun "
                              "`stallscope diagnose` on the same run directories")
    return list(entries)


def assess_runs(
    runs: list[Path],
    out: Path,
    diagnoses: dict[str, Any],
    config_path: Path | None = None,
    allow_mixed: bool = False,
    extras: dict[str, Path] | None = None,
    catalogue_path: Path | None = None,
    summary_out: Path | None = None,
) -> Path:
    """Evaluate every catalogue claim over ``runs`` diagnosed in ``diagnoses`` (the diagnoses/1 document of the
    same runs, in the same order); write ``out`` (claims.json) and return it.

    Also writes ``summary_out`` (default: ``summary.json`` beside ``out``): the per-scenario statistics and the
    verdicts as data (``shared.summary``).

    ``extras`` maps the extra inputs a claim may read (catalogue ``inputs``: ``overhead_bench`` is the
    ``--bench`` bench.json) to files; none is read unless given. A missing or unreadable file leaves the claims
    that read it inconclusive.
    """
    loaded = [read_run_dir(Path(d)) for d in runs]
    mixed_note = check_mixing(loaded, allow_mixed)
    cat = load_catalogue(catalogue_path) if catalogue_path else load_catalogue()
    extra_paths = dict(extras or {})
    diagnosed = matched_diagnoses(loaded, diagnoses)
    ctx = Context(tuple(loaded), load_config_scenarios(config_path), load_extras(extra_paths),
                  {k: str(p) for k, p in extra_paths.items()},
                  {str(r.dir): d["bound"] for r, d in zip(loaded, diagnosed, strict=True)})
    verdicts = [evaluate_over_trials(ctx, c) for c in cat.claims]
    entries = [run_entry(r, ctx.configured, d) for r, d in zip(loaded, diagnosed, strict=True)]
    diagnosis = [d["diagnosis"] | {"outcome": d["outcome"], "bound": d["bound"]} for d in diagnosed]
    counts = {k: 0 for k in reversed(PRIORITY)}
    for v in verdicts:
        counts[v.verdict] += 1
    sut = _sut_stamp(loaded)
    tool = stallscope_facts()  # the tool that judged; each run keeps the commit of the one that made it
    hosts = sorted({r.hostname for r in loaded if r.hostname})
    data: dict[str, Any] = {
        "schema": "claims/1",
        "generated_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sut": sut,
        "stallscope": tool,
        "is_mixed": mixed_note is not None,
        "mixed_note": mixed_note,
        "hosts": hosts,
        "runs": entries,
        "experts": [{"number": e.number, "name": e.name, "question": e.question} for e in cat.experts],
        "claims": [verdict_entry(cat, v) for v in verdicts],
        "diagnosis": diagnosis,
        "verdict_counts": counts,
        "summary": _summary(counts, loaded, diagnosis, sut["id"]),
        "next_steps": _next_steps(verdicts, diagnosis),
    }
    path = schemas.write_json(out, "claims", data)
    write_summary(Path(summary_out) if summary_out else Path(out).parent / SUMMARY_FILE, data,
                  {r.run_id: r.metrics for r in loaded})
    return path
