"""Builders for tests: glog lines and whole run directories with a valid manifest."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from stallscope import schemas


def glog(msg: str, t: str = "12:00:00.000000", sev: str = "I", tid: int = 1000, src: str = "x.cc:1",
         date: str = "20260202") -> str:
    """One glog line (no newline) at ``t`` on ``date``."""
    return f"{sev}{date} {t} {tid:>5} {src}] {msg}"


BASE_MANIFEST: dict[str, Any] = {
    "schema": "manifest/1", "run_id": "unit/t1", "scenario": "unit", "trial": 1, "origin": "run",
    "expected_cause": None,
    "params": {"brokers": 1, "threads_per_broker": 1, "message_size": 1024, "total_bytes": None,
               "message_count": None, "order": 0, "ack_level": 1, "ack_timeout_s": None, "batch_bytes": None,
               "stall_threshold_ms": 50},
    "faults": {},
    "sut": {"id": "unknown", "source": None, "commit": None, "is_dirty": None, "diff_sha256": None,
            "commit_date": None, "commit_subject": None, "binaries": {}},
    "stallscope": {"version": "0.1.0", "commit": None, "is_dirty": None},
    "host": {"hostname": None, "kernel": None, "cpu_model": None, "cores": None, "memory_bytes": None},
    "slurm": {"job_id": None, "node": None},
    "started_utc": None, "ended_utc": None, "utc_offset_s": None, "processes": [], "ports": {}, "timeouts_hit": [],
    "harness": {"ok": True, "errors": []}, "notes": [],
    "files": {"client_log": "client.log", "broker_logs": []},
    "clock_aligned": True, "rerun_command": None,
}


def make_run_dir(tmp: Path, client_lines: list[str] | None = None, broker_lines: dict[int, list[str]] | None = None,
                 manifest_overrides: dict[str, Any] | None = None) -> Path:
    """Write a run directory: manifest.json (valid), client.log and broker_<i>.log from the given lines."""
    tmp.mkdir(parents=True, exist_ok=True)
    m = copy.deepcopy(BASE_MANIFEST)
    brokers = broker_lines or {}
    m["files"]["broker_logs"] = [f"broker_{i}.log" for i in sorted(brokers)]
    m["params"]["brokers"] = max(len(brokers), 1)
    for key, value in (manifest_overrides or {}).items():
        if isinstance(value, dict) and isinstance(m.get(key), dict):
            m[key].update(value)
        else:
            m[key] = value
    for i, lines in brokers.items():
        (tmp / f"broker_{i}.log").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    if client_lines is not None:
        (tmp / "client.log").write_text("".join(line + "\n" for line in client_lines), encoding="utf-8")
    else:
        m["files"]["client_log"] = None
    schemas.write_json(tmp / "manifest.json", "manifest", m)
    return tmp


# ---------------------------------------------------------------------------------------------------------------
# render (report, index): make_claims builds a complete claims.json plus its run directories by hand.
# ---------------------------------------------------------------------------------------------------------------
import csv as _render_csv  # noqa: E402
import json as _render_json  # noqa: E402
from pathlib import Path as _RenderPath  # noqa: E402
from typing import Any as _RenderAny  # noqa: E402

RENDER_T0_US = 1_770_000_000_000_000  # run start, microseconds since the epoch
RENDER_EXPERTS = [
    {"number": 1, "name": "Correctness & Code", "question": "Show me the code"},
    {"number": 2, "name": "Logs & Causality", "question": "What do the logs actually prove?"},
    {"number": 3, "name": "Test & Environment", "question": "Did we even run the right experiment?"},
    {"number": 4, "name": "Overclaim & Next Steps", "question": "What did we really learn?"},
]
RENDER_RUNS = ("baseline/t1", "slow_producer/t1")


def make_render_manifest(run_id: str, sut_id: str) -> dict[str, _RenderAny]:
    """A manifest/1 that validates against workflow/schemas/manifest.schema.json."""
    scenario, trial = run_id.split("/t")
    brokers = 2
    return {
        "schema": "manifest/1", "run_id": run_id, "scenario": scenario, "trial": int(trial), "origin": "run",
        "expected_cause": "client_producer" if scenario == "slow_producer" else "none",
        "params": {"brokers": brokers, "threads_per_broker": 1, "message_size": 1024, "total_bytes": 10485760,
                   "message_count": 10240, "order": 0, "ack_level": 1, "ack_timeout_s": 120.0,
                   "batch_bytes": 524288, "stall_threshold_ms": 50},
        "faults": {"producer_sleep_ms": 20} if scenario == "slow_producer" else {},
        "sut": {"id": sut_id, "source": "/src/broker", "commit": sut_id[:12] + "0" * 28, "is_dirty": False,
                "diff_sha256": None, "commit_date": "2026-11-20T10:00:00+00:00", "commit_subject": "test commit",
                "binaries": {"refbroker": "ab" * 32}},
        "stallscope": {"version": "0.1.0", "commit": "fedcba987654" + "0" * 28, "is_dirty": False},
        "host": {"hostname": "node01", "kernel": "6.1.0", "cpu_model": "Test CPU", "cores": 8,
                 "memory_bytes": 16 * 2**30},
        "slurm": {"job_id": "4242", "node": "node01"} if scenario == "slow_producer" else {"job_id": None,
                                                                                         "node": None},
        "started_utc": "2026-11-26T19:00:00Z", "ended_utc": "2026-11-26T19:00:30Z", "utc_offset_s": 0,
        "processes": [{"name": f"broker_{i}", "role": "broker", "broker": i, "argv": ["refbroker"], "pid": 100 + i,
                       "exit_code": 0, "signal": None, "timed_out": False, "log": f"broker_{i}.log"}
                      for i in range(brokers)],
        "ports": {"broker_0": 20000}, "timeouts_hit": [], "harness": {"ok": True, "errors": []}, "notes": [],
        "files": {"client_log": "client.log", "broker_logs": [f"broker_{i}.log" for i in range(brokers)]},
        "clock_aligned": True, "rerun_command": f"stallscope run --scenario {scenario}",
    }


def make_render_events(excerpt: str) -> tuple[list[dict[str, _RenderAny]], list[dict[str, _RenderAny]]]:
    """events.csv rows of one hand-made run (4 phases, 4 stalls on 2 brokers, 4 ACK progress lines) + progress."""
    t0, sec = RENDER_T0_US, 1_000_000
    rows: list[dict[str, _RenderAny]] = []

    def add(file: str, line: int, ts: int, broker: int | None, kind: str, dur: int | None,
            fields: dict[str, _RenderAny], text: str) -> None:
        rows.append({"file": file, "line": line, "ts_us": ts, "severity": "W" if dur else "I", "tid": 7,
                     "src": "broker.cc:10", "role": "client" if file == "client.log" else "broker",
                     "broker": "" if broker is None else broker, "kind": kind,
                     "duration_ms": "" if dur is None else dur, "fields": _render_json.dumps(fields), "text": text})

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


def make_render_run_dir(run_dir: _RenderPath, run_id: str, sut_id: str, excerpt: str) -> None:
    """Write manifest.json, events.csv and metrics.json of one hand-made run."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "manifest.json").write_text(_render_json.dumps(make_render_manifest(run_id, sut_id)))
    rows, progress = make_render_events(excerpt)
    with (run_dir / "events.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = _render_csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    metrics = make_render_metrics(run_id, sut_id, progress)
    (run_dir / "metrics.json").write_text(_render_json.dumps(metrics))


def _render_minimal(schema: dict[str, _RenderAny]) -> _RenderAny:
    """The smallest instance of ``schema``: null where allowed, else 0 / "" / false / [] / {} / first enum value."""
    if "const" in schema:
        return schema["const"]
    if "oneOf" in schema:
        options = schema["oneOf"]
        return None if any(o.get("type") == "null" for o in options) else _render_minimal(options[0])
    if "enum" in schema:
        return None if None in schema["enum"] else schema["enum"][0]
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "null" in kinds:
        return None
    if "object" in kinds:
        props = schema.get("properties", {})
        return {k: _render_minimal(props[k]) for k in schema.get("required", [])}
    return {"array": [], "string": "", "integer": 0, "number": 0.0, "boolean": False}.get(kinds[0])


def make_render_metrics(run_id: str, sut_id: str, progress: list[dict[str, _RenderAny]]) -> dict[str, _RenderAny]:
    """A metrics/1 built from the schema's minimal instance plus the fields the report draws."""
    from stallscope import schemas

    t0, sec = RENDER_T0_US, 1_000_000
    try:
        metrics = _render_minimal(schemas.load_schema(schemas.KINDS["metrics"][0]))
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
    tmp: _RenderPath,
    *,
    sut_id: str = "0123456789ab",
    verdicts: dict[str, str] | None = None,
    excerpt: str = "[STALL] recv batch header blocked 57ms",
    commit_date: str | None = "2026-11-20T10:00:00+00:00",
    commit_subject: str | None = "Add stall diagnostics",
    delivered_mb_s: float = 95.5,
    missing_runs: tuple[str, ...] = (),
) -> _RenderPath:
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
    path.write_text(_render_json.dumps(data, indent=1), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------------------------
# end of render section
# ---------------------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------------------
# panel (assess): hand-built metrics/1 and manifests in the shape of each scenario. Names start with panel_.
# ---------------------------------------------------------------------------------------------------------------
PANEL_REFS = ("stall_header", "stall_partial", "stall_payload", "stall_init", "stall_publish", "stall_drain",
              "stall_post", "stall_closed", "ring_full", "conn_closed", "ack_timeout", "ack_per_broker",
              "batch_stats", "ack_progress_last", "publish_completed", "publish_finished", "bandwidth",
              "publish_failed", "init_wait", "hugepages", "hugetlb_fallback", "benign_matches", "real_matches",
              "tcp_info", "send_stats", "broker_metrics", "banner", "pipeline_profile", "zero_batches",
              "phase_publish_start", "phase_send_done", "phase_ack_done", "phase_ack_timeout", "fault")
PANEL_T0_US = 1_770_000_000_000_000


def _panel_kind(count: int = 0, max_ms: int | None = None, median_ms: float | None = None) -> dict[str, Any]:
    if count == 0:
        return {"count": 0, "min_ms": None, "median_ms": None, "p90_ms": None, "max_ms": None, "total_ms": None}
    mx = max_ms if max_ms is not None else 60
    med = median_ms if median_ms is not None else min(55.0, float(mx))
    return {"count": count, "min_ms": 50, "median_ms": med, "p90_ms": float(mx), "max_ms": mx,
            "total_ms": int(med * count)}


def _panel_phase_counts(**kw: int) -> dict[str, int]:
    h, p, y = kw.get("header", 0), kw.get("partial", 0), kw.get("payload", 0)
    return {"header": h, "partial": p, "payload": y, "total": h + p + y}


def panel_stalls(header: int = 0, partial: int = 0, payload: int = 0, max_ms: int | None = None,
                 median_ms: float | None = None, phase: dict[str, dict[str, int]] | None = None,
                 ended_in_close: int = 0, after_client_done: int | None = None) -> dict[str, Any]:
    """A stalls summary ``S``; ``phase`` maps phase -> {header, partial, payload} (default: all in publish)."""
    phase = phase if phase is not None else {"publish": {"header": header, "partial": partial, "payload": payload}}
    by_phase = {p: _panel_phase_counts(**phase.get(p, {})) for p in ("init", "publish", "drain", "post", "unknown")}
    during = by_phase["publish"]["total"] + by_phase["drain"]["total"]
    after = after_client_done if after_client_done is not None else by_phase["drain"]["total"] + by_phase["post"][
        "total"]
    return {"count": header + partial + payload,
            "by_kind": {"header": _panel_kind(header, max_ms, median_ms), "partial": _panel_kind(partial, max_ms),
                        "payload": _panel_kind(payload, max_ms)},
            "by_phase": by_phase, "ended_in_close": ended_in_close, "during_run": during,
            "during_run_by_kind": {k: by_phase["init"][k] + by_phase["publish"][k]
                                   for k in ("header", "partial", "payload")},
            "after_client_done": after}


def panel_phases(init_s: float = 0.5, publish_s: float = 1.0, drain_s: float = 0.2, post_s: float = 0.2
                 ) -> dict[str, Any]:
    """Phase bounds from durations, starting at PANEL_T0_US."""
    out: dict[str, Any] = {"source": "markers"}
    t = PANEL_T0_US
    for name, d in (("init", init_s), ("publish", publish_s), ("drain", drain_s), ("post", post_s)):
        end = t + int(d * 1e6)
        out[name] = {"start_us": t, "end_us": end, "duration_s": d}
        t = end
    return out


def panel_metrics(scenario: str = "stress_10gb", brokers: int = 4, messages: int = 10_000) -> dict[str, Any]:
    """A healthy, schema-valid metrics/1: few short stalls, ACKs complete, no timeout, one ring full per broker."""
    per = messages // brokers
    bids = [str(b) for b in range(brokers)]
    return {
        "schema": "metrics/1", "run_id": f"{scenario}/t1", "scenario": scenario, "sut": "0123456789ab",
        "origin": "run", "expected_cause": None, "harness_ok": True, "is_truncated": False, "clock_aligned": True,
        "missing_files": [], "lines": {}, "unrecognised_glog_count": 0, "phases": panel_phases(),
        "stalls": {"total": panel_stalls(header=4), "per_broker": {b: panel_stalls(header=1) for b in bids}},
        "ring_full": {"events": brokers, "max_total_ring_full": 1,
                      "per_broker": {b: {"events": 1, "max_total_ring_full": 1} for b in bids}},
        "received": {"per_broker": {b: {"batches": 2, "bytes": per * 1088, "messages": per,
                                        "source": "broker_metrics"} for b in bids},
                     "total": {"batches": 2 * brokers, "bytes": per * brokers * 1088, "messages": per * brokers}},
        "acks": {"expected": per * brokers, "received": per * brokers, "per_broker": {b: per for b in bids},
                 "sent_per_broker": {b: per for b in bids}, "completeness": 1.0, "is_timeout": False,
                 "timeout_s": 5.0, "waited_s": 0.1, "batches_sent": 2 * brokers, "sent_all": True, "progress": []},
        "throughput": {"delivered_mb_s": 1500.0, "publish_bw_mb_s": 2000.0, "eagain_count": 0, "completed_s": 1.0,
                       "send_blocked_s": 0.2, "bytes_sent": per * brokers * 1088},
        "init": {"wait_s": 0.0, "hugepage_short": False, "hugetlb_fallback": False},
        "tcp": panel_tcp(0.1, 0.02),
        "client_log_matches": {"benign": 0, "real": 0, "items": []},
        "checks": [], "outcome": {"client_exit_code": 0, "publish_ok": True, "harness_ok": True},
        "refs": {name: {"count": 0, "items": []} for name in PANEL_REFS},
    }


def panel_tcp(rwnd_fraction: float, sndbuf_fraction: float, send_blocked_us: int = 100_000) -> dict[str, Any]:
    """Client TCP evidence with the given limited fractions (busy 1 s)."""
    busy = 1_000_000
    return {"connections": [], "busy_us": busy, "rwnd_limited_us": int(rwnd_fraction * busy),
            "sndbuf_limited_us": int(sndbuf_fraction * busy), "send_blocked_us": send_blocked_us,
            "rwnd_fraction": rwnd_fraction, "sndbuf_fraction": sndbuf_fraction, "per_broker": {}}


def panel_ref(name: str, texts: list[str], file: str = "broker_0.log", count: int | None = None) -> dict[str, Any]:
    """A refs entry citing ``texts`` at lines 10, 11, ... (at most 5 items, count = all)."""
    items = [{"file": file, "line": 10 + i, "text": t} for i, t in enumerate(texts[:5])]
    return {"count": len(texts) if count is None else count, "items": items}


def panel_set(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set ``data[a][b]... = value`` for a dotted path, creating dicts on the way; return data."""
    parts = path.split(".")
    cur = data
    for p in parts[:-1]:
        if not isinstance(cur.get(p), dict):
            cur[p] = {}
        cur = cur[p]
    cur[parts[-1]] = value
    return data


def panel_manifest(scenario: str, trial: int = 1, total_bytes: int = 10 * 1024**2, faults: dict[str, Any] | None
                   = None, sut_id: str = "0123456789ab", host: str = "node01", brokers: int = 4,
                   harness_ok: bool = True, expected_cause: str | None = None) -> dict[str, Any]:
    """A schema-valid manifest/1 for a panel test run."""
    m = copy.deepcopy(BASE_MANIFEST)
    m.update({"run_id": f"{scenario}/t{trial}", "scenario": scenario, "trial": trial,
              "expected_cause": expected_cause, "faults": dict(faults or {}),
              "harness": {"ok": harness_ok, "errors": [] if harness_ok else ["broker 2 never became ready"]},
              "notes": []})
    m["params"].update({"brokers": brokers, "threads_per_broker": 1, "total_bytes": total_bytes,
                        "message_count": total_bytes // 1024, "ack_timeout_s": 5.0, "batch_bytes": 2 * 1024**2})
    m["sut"].update({"id": sut_id, "commit": sut_id + "0" * 28, "is_dirty": False,
                     "commit_date": "2026-11-20T10:00:00+00:00", "commit_subject": "add recv stall diagnostics"})
    m["host"]["hostname"] = host
    return m


def panel_run(metrics: dict[str, Any] | None, manifest: dict[str, Any] | None, run_dir: Path | None = None) -> Any:
    """An in-memory panel Run (no files), harness errors derived as load_run would."""
    from stallscope.panel.context import Run

    errors: list[str] = []
    if manifest is not None and not manifest["harness"]["ok"]:
        errors.extend(manifest["harness"]["errors"])
    if metrics is None:
        errors.append("metrics.json: missing metrics file")
    scenario = (manifest or metrics or {}).get("scenario", "unit")
    run_id = (manifest or metrics or {}).get("run_id", f"{scenario}/t1")
    return Run(run_dir or Path(f"/runs/{run_id}"), run_id, scenario, manifest, metrics, tuple(errors))


def panel_write_run(root: Path, metrics: dict[str, Any] | None, manifest: dict[str, Any]) -> Path:
    """Write a run directory <root>/<sut>/<scenario>/t<n>/ with manifest.json and (unless None) metrics.json."""
    d = root / manifest["sut"]["id"] / manifest["scenario"] / f"t{manifest['trial']}"
    d.mkdir(parents=True, exist_ok=True)
    schemas.write_json(d / "manifest.json", "manifest", manifest)
    if metrics is not None:
        metrics = copy.deepcopy(metrics)
        metrics.update({"run_id": manifest["run_id"], "scenario": manifest["scenario"], "sut": manifest["sut"]["id"]})
        schemas.write_json(d / "metrics.json", "metrics", metrics)
    return d
