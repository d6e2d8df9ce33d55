"""Builders for the render stage's tests: a complete claims.json and its run directories, made by hand."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.shared.manifest import new_manifest

RENDER_T0_US = 1_770_000_000_000_000  # run start, microseconds since the epoch
RENDER_EXPERTS = [
    {"number": 1, "name": "Correctness & Code", "question": "Show me the code"},
    {"number": 2, "name": "Logs & Causality", "question": "What do the logs actually prove?"},
    {"number": 3, "name": "Test & Environment", "question": "Did we even run the right experiment?"},
    {"number": 4, "name": "Overclaim & Next Steps", "question": "What did we really learn?"},
]
RENDER_RUNS = ("baseline/t1", "slow_producer/t1")


def make_render_manifest(run_id: str, sut_id: str) -> dict[str, Any]:
    """A manifest/1 that validates against workflow/schemas/manifest.schema.json."""
    scenario, trial = run_id.split("/t")
    brokers = 2
    return new_manifest(
        run_id, scenario, int(trial), "run",
        expected_cause="client_producer" if scenario == "slow_producer" else "none",
        params={"brokers": brokers, "threads_per_broker": 1, "message_size": 1024, "total_bytes": 10485760,
                "message_count": 10240, "order": 0, "ack_level": 1, "ack_timeout_s": 120.0,
                "batch_bytes": 524288, "stall_threshold_ms": 50},
        faults={"producer_sleep_ms": 20} if scenario == "slow_producer" else {},
        sut={"id": sut_id, "source": "/src/broker", "commit": sut_id[:12] + "0" * 28, "is_dirty": False,
             "diff_sha256": None, "commit_date": "2026-11-20T10:00:00+00:00", "commit_subject": "test commit",
             "binaries": {"refbroker": "ab" * 32}},
        stallscope={"version": "0.1.0", "commit": "fedcba987654" + "0" * 28, "is_dirty": False},
        host={"hostname": "node01", "kernel": "6.1.0", "cpu_model": "Test CPU", "cores": 8,
              "memory_bytes": 16 * 2**30},
        slurm={"job_id": "4242", "node": "node01"} if scenario == "slow_producer" else {"job_id": None, "node": None},
        started_utc="2026-11-26T19:00:00Z", ended_utc="2026-11-26T19:00:30Z", utc_offset_s=0,
        processes=[{"name": f"broker_{i}", "role": "broker", "broker": i, "argv": ["refbroker"], "pid": 100 + i,
                    "exit_code": 0, "signal": None, "timed_out": False, "log": f"broker_{i}.log"}
                   for i in range(brokers)],
        ports={"broker_0": 20000},
        files={"client_log": "client.log", "broker_logs": [f"broker_{i}.log" for i in range(brokers)]},
        rerun_command=f"stallscope run --scenario {scenario}",
    )


def make_render_events(excerpt: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """events.csv rows of one hand-made run (4 phases, 4 stalls on 2 brokers, 4 ACK progress lines) + progress."""
    t0, sec = RENDER_T0_US, 1_000_000
    rows: list[dict[str, Any]] = []

    def add(file: str, line: int, ts: int, broker: int | None, kind: str, dur: int | None,
            fields: dict[str, Any], text: str) -> None:
        rows.append({"file": file, "line": line, "ts_us": ts, "severity": "W" if dur else "I", "tid": 7,
                     "src": "broker.cc:10", "role": "client" if file == "client.log" else "broker",
                     "broker": "" if broker is None else broker, "kind": kind,
                     "duration_ms": "" if dur is None else dur, "fields": json.dumps(fields), "text": text})

    for i, name in enumerate(("init", "publish", "drain", "post")):
        add("client.log", 1 + i, t0 + 2 * i * sec, None, "phase", None, {"name": name}, f"phase {name}")
    add("broker_0.log", 12, t0 + 3 * sec, 0, "stall_header", 57, {}, excerpt)
    add("broker_0.log", 15, t0 + int(3.5 * sec), 0, "stall_payload", 120, {}, "[STALL] recv payload blocked 120ms")
    add("broker_1.log", 9, t0 + int(16.5 * sec), 1, "stall_header", 10280, {}, "[STALL] recv batch header 10280ms")
    add("broker_1.log", 11, t0 + int(4.4 * sec), 1, "stall_partial", 61, {}, "[STALL] recv partial header 61ms")
    progress = [{"elapsed_s": float(k), "received": 300 * k, "per_broker": {"0": 200 * k, "1": 100 * k}}
                for k in range(4)]
    for k, p in enumerate(progress):
        add("client.log", 20 + k, t0 + (2 + k) * sec, None, "ack_progress", None, p, f"acks {p['received']}")
    return rows, progress


def make_render_run_dir(run_dir: Path, run_id: str, sut_id: str, excerpt: str) -> None:
    """Write manifest.json, events.csv and metrics.json of one hand-made run."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "manifest.json").write_text(json.dumps(make_render_manifest(run_id, sut_id)))
    rows, progress = make_render_events(excerpt)
    with (run_dir / "events.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    metrics = make_render_metrics(run_id, sut_id, progress)
    (run_dir / "metrics.json").write_text(json.dumps(metrics))


def _minimal(schema: dict[str, Any]) -> Any:
    """The smallest instance of ``schema``: null where allowed, else 0 / "" / false / [] / {} / first enum value."""
    if "const" in schema:
        return schema["const"]
    if "oneOf" in schema:
        options = schema["oneOf"]
        return None if any(o.get("type") == "null" for o in options) else _minimal(options[0])
    if "enum" in schema:
        return None if None in schema["enum"] else schema["enum"][0]
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "null" in kinds:
        return None
    if "object" in kinds:
        props = schema.get("properties", {})
        return {k: _minimal(props[k]) for k in schema.get("required", [])}
    return {"array": [], "string": "", "integer": 0, "number": 0.0, "boolean": False}.get(kinds[0])


def make_render_metrics(run_id: str, sut_id: str, progress: list[dict[str, Any]]) -> dict[str, Any]:
    """A metrics/1 built from the schema's minimal instance plus the fields the report draws."""
    t0, sec = RENDER_T0_US, 1_000_000
    try:
        metrics = _minimal(schemas.load_schema(schemas.KINDS["metrics"][0]))
    except FileNotFoundError:
        metrics = {}
    metrics.update({"schema": "metrics/1", "run_id": run_id, "scenario": run_id.split("/")[0], "sut": sut_id})
    phases = {name: {"start_us": t0 + 2 * i * sec, "end_us": t0 + 2 * (i + 1) * sec, "duration_s": 2.0}
              for i, name in enumerate(("init", "publish", "drain", "post"))}
    metrics["phases"] = {**(metrics.get("phases") or {}), **phases}
    if "source" in metrics["phases"]:
        metrics["phases"]["source"] = "markers"
    metrics["acks"] = {**(metrics.get("acks") or {}), "progress": progress}
    delivered = 95.5 if run_id.startswith("baseline") else 12.25
    metrics["throughput"] = {**(metrics.get("throughput") or {}), "delivered_mb_s": delivered, "publish_bw_mb_s": 110.0}
    return metrics


def make_claims(
    tmp: Path,
    *,
    sut_id: str = "0123456789ab",
    verdicts: dict[str, str] | None = None,
    excerpt: str = "[STALL] recv batch header blocked 57ms",
    commit_date: str | None = "2026-11-20T10:00:00+00:00",
    commit_subject: str | None = "Add stall diagnostics",
    delivered_mb_s: float = 95.5,
    missing_runs: tuple[str, ...] = (),
) -> Path:
    """Write ``tmp/claims.json`` (claims/1, per workflow/schemas/claims.contract.md) and its two run directories.

    ``verdicts`` overrides claim verdicts by claim id (``recv_sites``, ``ring_not_repeated``, ``root_cause``);
    ``excerpt`` is the first stall's log text (cited as evidence); runs named in ``missing_runs`` get no directory.
    Returns the claims.json path.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    runs = []
    for run_id in RENDER_RUNS:
        run_dir = tmp / "runs" / run_id
        if run_id not in missing_runs:
            make_render_run_dir(run_dir, run_id, sut_id, excerpt)
        scenario = run_id.split("/")[0]
        slow = scenario == "slow_producer"
        runs.append({
            "run_id": run_id, "scenario": scenario, "trial": 1, "dir": str(run_dir), "origin": "run",
            "expected_cause": "client_producer" if slow else "none",
            "params": {"brokers": 2, "message_size": 1024, "total_bytes": 10485760, "order": 0, "ack_level": 1},
            "faults": {"producer_sleep_ms": 20} if slow else {},
            "host": "node01", "slurm_job_id": "4242" if slow else None, "slurm_node": "node01" if slow else None,
            "started_utc": "2026-11-26T19:00:00Z", "ended_utc": "2026-11-26T19:00:30Z", "sut_id": sut_id,
            "stallscope_commit": "fedcba987654", "harness_ok": True, "harness_errors": [], "publish_ok": True,
            "key_figures": {"stalls_total": 4, "stalls_during_run": 3, "stalls_after_client_done": 1,
                            "acks_received": 900, "acks_expected": 10240, "ack_completeness": 0.088,
                            "delivered_mb_s": 12.25 if slow else delivered_mb_s,
                            "init_wait_s": 2.0, "ring_full_events": 1},
        })
    ev = {"run_id": "baseline/t1", "file": "broker_0.log", "line": 12, "excerpt": excerpt,
          "metric": "stalls.header.count", "value": 1}
    ev_metric = {"run_id": "slow_producer/t1", "file": None, "line": None, "excerpt": None,
                 "metric": "ring_full", "value": 1}
    chosen = {"recv_sites": "supported", "ring_not_repeated": "supported", "root_cause": "overclaim"}
    chosen.update(verdicts or {})
    claims = [
        {"id": "recv_sites", "expert": 1, "title": "Diagnostics cover all three recv sites",
         "statement": "Stall diagnostics cover the header, partial-header and payload recv sites.",
         "verdict": chosen["recv_sites"], "reason": "Stalls of all three kinds were logged.",
         "runs": ["baseline/t1"], "evidence": [ev], "evidence_count": 1, "settle": None, "error": None},
        {"id": "ring_not_repeated", "expert": 2, "title": "Ring full once per broker",
         "statement": "The ring is not the repeated stall.", "verdict": chosen["ring_not_repeated"],
         "reason": "One ring-full event per broker.", "runs": ["slow_producer/t1"],
         "evidence": [ev_metric, dict(ev, line=15, excerpt="[STALL] recv payload blocked 120ms")],
         "evidence_count": 7, "settle": None, "error": None},
        {"id": "right_scenario", "expert": 3, "title": "Test run reproduced the original failure",
         "statement": "The run reproduced the scenario that originally failed.", "verdict": "not_run",
         "reason": "No 10 GiB run.", "runs": [], "evidence": [], "evidence_count": 0,
         "settle": "Run the 10 GiB scenario with the same diagnostics.", "error": None},
        {"id": "root_cause", "expert": 4, "title": "Conclusion: blocking recv is the problem",
         "statement": "Blocking recv is the root cause of the ACK timeout.", "verdict": chosen["root_cause"],
         "reason": "Nothing separates a slow producer from flow control.", "runs": ["baseline/t1"],
         "evidence": [ev], "evidence_count": 1, "settle": "Capture client TCP_INFO during the publish phase.",
         "error": None},
    ]
    counts: dict[str, int] = {}
    for c in claims:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    data = {
        "schema": "claims/1", "generated_utc": "2026-11-26T20:00:00Z",
        "sut": {"id": sut_id, "commit": sut_id[:12] + "0" * 28, "is_dirty": False, "commit_date": commit_date,
                "commit_subject": commit_subject, "source": "/src/broker"},
        "stallscope": {"version": "0.1.0", "commit": "fedcba987654" + "0" * 28, "is_dirty": False},
        "is_mixed": False, "mixed_note": None, "hosts": ["node01"], "runs": runs, "experts": RENDER_EXPERTS,
        "claims": claims,
        "diagnosis": [{"run_id": "slow_producer/t1", "scenario": "slow_producer", "bottleneck": "client_producer",
                       "confidence": "medium", "expected_cause": "client_producer", "matches_expected": True,
                       "summary": "Headers arrive late while the ring has room.",
                       "evidence_for": [dict(ev, run_id="slow_producer/t1", file="broker_1.log", line=9,
                                             excerpt="[STALL] recv batch header 10280ms")],
                       "evidence_against": [{"cause": "broker_ring", "reason": "ring full only once"}]}],
        "verdict_counts": counts, "summary": "Brokers block in recv during the publish phase.",
        "next_steps": ["Run the 10 GiB scenario.", "Capture client TCP_INFO."],
    }
    path = tmp / "claims.json"
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path
