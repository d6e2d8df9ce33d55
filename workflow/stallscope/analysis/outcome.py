"""A run's outcome as its lines state it, and the figures a harness states beside the client's own.

``evidence.outcome_status`` reads the publish test's verdict; harnesses say more. A driver's attempt result
(``success``) is the outcome of a run whose client logs it did not keep; a signal's stack trace or a driver's
``exited 124`` says the client was killed; a failure test names no killed broker but shows it (``endings``); a run
that completed without some messages states an allowed shortfall. ``unknown`` stays only when no line says how
the run ended.

Figures: a multi-client driver's per-client lines, TOTAL, SENDDONE and OVERLAP (``metrics.driver``); a failure
test's end-to-end and active-window bandwidths; the pacing target; the share of the clients' time spent waiting
for the last ACK (from Bandwidth against Send-done: both are MB over the same bytes, so per byte the difference
of their inverses is the wait). MB/s is 2^20 B/s throughout, as the logs mean it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from stallscope.analysis import clients, endings
from stallscope.shared.vocabulary import (
    ACK_TIMEOUT,
    COMPLETED,
    COMPLETED_SHORTFALL,
    CRASHED,
    FAILED,
    HARNESS_ERROR,
    KILLED,
    UNKNOWN,
)


def _client_fields(ev: pd.DataFrame, kind: str) -> list[tuple[dict[str, Any], Any, Any, Any]]:
    rows = ev[(ev["role"] == "client") & (ev["kind"] == kind)]
    return [(f, fi, li, tx) for f, fi, li, tx in zip(rows["fields"], rows["file"], rows["line"], rows["text"],
                                                    strict=True) if isinstance(f, dict)]


def _last(ev: pd.DataFrame, kind: str, key: str) -> Any:
    vals = [f[key] for f, *_ in _client_fields(ev, kind) if f.get(key) is not None]
    return vals[-1] if vals else None


def acks_extras(acks_m: dict[str, Any], client_events: list[pd.DataFrame]) -> None:
    """Raw and excess ACK counts, and the unacknowledged messages; a count above the target is capped at it.

    An ACK count above what was sent counts some messages twice (a failure test's replayed committed prefix is
    acknowledged again): delivered is then the target, and the excess is kept apart, never read as delivery. The
    raw and excess counts and the routing a client logs are its own, not summed: the run's when it has one client."""
    raw = clients.alone([_last(e, "ack_normalize", "raw_received") or _last(e, "ack_verify", "raw_received")
                         for e in client_events])
    excess = clients.alone([_last(e, "ack_normalize", "excess") for e in client_events])
    expected, received = acks_m.get("expected"), acks_m.get("received")
    if isinstance(expected, int) and isinstance(received, int) and received > expected:
        raw = raw if raw is not None else received
        excess = excess if excess is not None else received - expected
        acks_m["received"] = expected
        acks_m["completeness"] = 1.0
    acks_m["raw_received"] = raw
    acks_m["excess"] = excess
    routing = clients.alone([[f for f, *_ in _client_fields(e, "order5_routing")] for e in client_events]) or []
    routed = {k[len("broker"):-len("_msgs")]: v for k, v in (routing[-1] if routing else {}).items()
              if k.startswith("broker") and k.endswith("_msgs") and isinstance(v, int)}
    acks_m["routed_per_broker"] = routed or None
    got = acks_m.get("received")
    acks_m["unacked"] = max(expected - got, 0) if isinstance(expected, int) and isinstance(got, int) else None


def driver_block(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The driver's own figures for this attempt, or None when the run has no multi-client driver's log."""
    a = manifest.get("attempt")
    if not isinstance(a, dict) or not a.get("driver_log"):
        return None
    return {"clients": a.get("driver_clients") or {}, "total_mb_s": a.get("driver_total_mb_s"),
            "senddone_mb_s": a.get("driver_senddone_mb_s"), "overlap_gb_s": a.get("driver_overlap_gb_s"),
            "result": a.get("result")}


def ack_wait_share(pairs: list[tuple[Any, Any]]) -> float | None:
    """Share of the clients' time spent after sending, waiting for ACKs, from (Bandwidth, Send-done) pairs.

    Each client sent its bytes at Send-done and finished at Bandwidth; per byte its time is 1/Bandwidth and the
    wait 1/Bandwidth - 1/Send-done. Over clients of equal load (a driver's LOAD_PER_CLIENT) the shares of the
    summed times are these inverses summed. None as soon as a figure is missing."""
    total = wait = 0.0
    for bw, sd in pairs:
        if not isinstance(bw, (int, float)) or not isinstance(sd, (int, float)) or bw <= 0 or sd <= 0:
            return None
        total += 1 / bw
        wait += max(1 / bw - 1 / sd, 0.0)
    return round(wait / total, 6) if total else None


def throughput_extras(ev: pd.DataFrame, tp: dict[str, Any], per_client: list[dict[str, Any]],
                      driver: dict[str, Any] | None, run_dir: Path, names: list[str],
                      driver_log: str | None = None) -> None:
    """Send-done, end-to-end, active-window and paced figures; the driver's when no client log has them."""
    tp["source"] = "client_log" if tp.get("delivered_mb_s") is not None else None
    tp["send_done_mb_s"] = clients.sum_known([c["throughput"]["send_done_mb_s"] for c in per_client])
    tp["e2e_mb_s"] = _last(ev, "bandwidth_e2e", "mb_s")
    tp["active_window_mb_s"] = _last(ev, "bandwidth_active_window", "mb_s")
    if tp.get("delivered_mb_s") is None:
        tp["delivered_mb_s"] = tp["active_window_mb_s"] if tp["active_window_mb_s"] is not None else tp["e2e_mb_s"]
        tp["source"] = "client_log" if tp["delivered_mb_s"] is not None else None
    if tp.get("completed_s") is None:
        tp["completed_s"] = _last(ev, "failure_completed", "seconds")
    pairs = [(c["throughput"]["delivered_mb_s"], c["throughput"]["send_done_mb_s"]) for c in per_client]
    if driver and driver.get("clients") and tp.get("delivered_mb_s") is None:
        tp["delivered_mb_s"], tp["send_done_mb_s"] = driver.get("total_mb_s"), driver.get("senddone_mb_s")
        tp["source"] = "driver" if tp["delivered_mb_s"] is not None else None
        pairs = [(c.get("mb_s"), c.get("send_done_mb_s")) for c in driver["clients"].values()]
    tp["ack_wait_share"] = ack_wait_share(pairs) if pairs else None
    tp["pacing_target_mb_s"], tp["pacing_gap_s"] = endings.pacing(run_dir, names, driver_log)


def _completed(outcome: dict[str, Any], acks_m: dict[str, Any], run_dir: Path, names: list[str],
               killed: list[int]) -> None:
    short, cite = endings.allowed_shortfall(run_dir, names)
    if short is not None:
        outcome["messages_lost"] = short
        outcome["cites"] = [*outcome["cites"], cite][:10]
    elif killed and isinstance(acks_m.get("unacked"), int):
        outcome["messages_lost"] = acks_m["unacked"]
    if outcome["messages_lost"]:
        outcome["status"] = COMPLETED_SHORTFALL
        outcome["reason"] = (f"completed with an allowed shortfall of {outcome['messages_lost']} messages"
                             + (f" (broker {', '.join(map(str, killed))} killed)" if killed else ""))
    elif killed:
        outcome["reason"] = (f"completed with broker {', '.join(map(str, killed))} killed on purpose; every "
                             "message acknowledged")


def decide_outcome(ev: pd.DataFrame, manifest: dict[str, Any], outcome: dict[str, Any], acks_m: dict[str, Any],
                   run_dir: Path, names: list[str]) -> None:
    """Settle ``outcome.status`` (already set from the publish verdict) from every line that states one."""
    files = manifest.get("files") or {}
    attempt = manifest.get("attempt") or {}
    killed, kill_cite, timing = endings.killed_by_client(ev)
    span = attempt.get("driver_lines") if attempt.get("driver_log") else None
    facts = endings.driver_facts(run_dir, files.get("driver_log") or attempt.get("driver_log"), span,
                                 manifest.get("trial"))
    killed = sorted(set(killed) | set(facts["killed_brokers"]))
    signals = endings.client_signals(run_dir, names)
    cites = ([kill_cite] if kill_cite else []) + facts["cites"] + [
        {k: s[k] for k in ("file", "line", "text")} for s in signals]
    outcome.update({"source": "client_log" if outcome["publish_ok"] is not None else None, "reason": None,
                    "cites": cites[:10], "signal": signals[0]["signal"] if signals else None,
                    "exit_codes": facts["exit_codes"], "killed_brokers": killed, "messages_lost": None,
                    "recovery_s": timing.get("recovery_s")})
    status = outcome["status"]
    if status in (HARNESS_ERROR, ACK_TIMEOUT):
        outcome["reason"] = "the client's ACK wait timed out" if status == ACK_TIMEOUT else None
        return
    fatal = [s for s in signals if s["signal"] not in endings.KILL_SIGNALS]
    killed_codes = {w: c for w, c in facts["exit_codes"].items() if c in endings.KILL_EXIT_CODES}
    if fatal and status == COMPLETED and acks_m.get("completeness") == 1.0 and not killed_codes:
        # Every client logged its publish complete and every message was acknowledged: the crash came at exit
        # (Embarcadero's throughput_test aborts now and then in its teardown), after the run did what it was for.
        outcome["reason"] = (f"the publish test completed, every message acknowledged; then {fatal[0]['file']} "
                             f"ended in {fatal[0]['signal']} at exit (a stack trace)")
        _completed(outcome, acks_m, run_dir, names, killed)
    elif fatal:
        outcome.update(status=CRASHED, source="signal",
                       reason=f"{fatal[0]['file']} ended in {fatal[0]['signal']} (a stack trace)")
    elif signals or killed_codes:
        who = ", ".join(f"{w} exited {c}" for w, c in killed_codes.items())
        sig = ", ".join(sorted({f"{s['file']}: {s['signal']}" for s in signals}))
        outcome.update(status=KILLED, source="signal" if signals else "exit_status",
                       reason="killed: " + "; ".join(x for x in (sig, who) if x))
    elif status == COMPLETED:
        outcome["reason"] = "the publish test completed" + (f" in every client ({len(names)})" if len(names) > 1
                                                            else "")
        _completed(outcome, acks_m, run_dir, names, killed)
    elif outcome["publish_ok"] is None and attempt.get("result"):
        result = str(attempt["result"])
        outcome["source"] = "driver"
        if result == "success" and not facts["ack_timeout"]:
            outcome.update(status=COMPLETED, publish_ok=True,
                           reason=f"the driver's result for this attempt: {result}")
            _completed(outcome, acks_m, run_dir, names, killed)
        elif facts["ack_timeout"]:
            outcome.update(status=ACK_TIMEOUT, publish_ok=False,
                           reason=f"the driver's result for this attempt: {result}; its lines report an ACK timeout")
        else:
            outcome.update(status=FAILED, publish_ok=False,
                           reason=f"the driver's result for this attempt: {result}"
                           + (f" ({attempt['reason']})" if attempt.get("reason") else ""))
    elif status == UNKNOWN and (facts["broken"] or any(c != 0 for c in facts["exit_codes"].values())):
        outcome.update(status=FAILED, source="exit_status",
                       reason="the driver reports " + ("a broken run" if facts["broken"] else
                                                       ", ".join(f"{w} exited {c}" for w, c in
                                                                 facts["exit_codes"].items())))
    if killed and outcome["status"] not in (COMPLETED, COMPLETED_SHORTFALL) and outcome["reason"]:
        outcome["reason"] += f"; broker {', '.join(map(str, killed))} killed"
