"""Builders for the panel stage's tests: hand-built metrics/1 and manifests in the shape of each scenario."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.shared.manifest import new_manifest
from stallscope.shared.rundir import RunDir
from tests.builders.logs import UNIT_PARAMS

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
    m = new_manifest(
        f"{scenario}/t{trial}", scenario, trial, "run", expected_cause=expected_cause, faults=dict(faults or {}),
        params=UNIT_PARAMS | {"brokers": brokers, "total_bytes": total_bytes, "message_count": total_bytes // 1024,
                              "ack_timeout_s": 5.0, "batch_bytes": 2 * 1024**2},
        harness={"ok": harness_ok, "errors": [] if harness_ok else ["broker 2 never became ready"]},
        files={"client_log": "client.log", "broker_logs": []},
    )
    m["sut"].update({"id": sut_id, "commit": sut_id + "0" * 28, "is_dirty": False,
                     "commit_date": "2026-11-20T10:00:00+00:00", "commit_subject": "add recv stall diagnostics"})
    m["host"]["hostname"] = host
    return m


def panel_run(metrics: dict[str, Any] | None, manifest: dict[str, Any] | None, run_dir: Path | None = None) -> Any:
    """An in-memory RunDir (no files), harness errors derived as read_run_dir would."""
    errors: list[str] = []
    if manifest is not None and not manifest["harness"]["ok"]:
        errors.extend(manifest["harness"]["errors"])
    if metrics is None:
        errors.append("metrics.json: missing metrics file")
    scenario = (manifest or metrics or {}).get("scenario", "unit")
    run_id = (manifest or metrics or {}).get("run_id", f"{scenario}/t1")
    return RunDir(run_dir or Path(f"/runs/{run_id}"), run_id, scenario, manifest, metrics, tuple(errors))


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
