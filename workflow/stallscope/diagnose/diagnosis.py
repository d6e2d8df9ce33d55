"""Diagnosis: the most likely bottleneck of one run, with confidence, evidence for and evidence against.

Each cause scores points from named signals (``shared/signals.py``); a fault knob adds only a small hint, so
a diagnosis never rests on the scenario's configuration alone. The best cause with at least
``MIN_CAUSE_SCORE`` points wins (ties go by ``shared.vocabulary.TIE_ORDER``, most specific first); otherwise ``none``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stallscope.diagnose.bound_harness import stopped_broker
from stallscope.diagnose.bound_host import PRODUCER_FAULTS, cores_queued, producer_share, publish_cpu
from stallscope.diagnose.liveness import score_failed, score_paused
from stallscope.diagnose.score import Score
from stallscope.diagnose.signals import (
    after_stalls_end_in_close,
    has_symptom,
    is_ack_short,
    mid_batch_pauses,
    send_blocked_share,
)
from stallscope.diagnose.thresholds import (
    CAUSE_HIGH_MARGIN,
    CAUSE_HIGH_SCORE,
    CAUSE_MEDIUM_MARGIN,
    CAUSE_MEDIUM_SCORE,
    FAULT_HINT,
    FEW_STALLS_DURING_RUN,
    INIT_SHARE_LARGE,
    LOW_PRODUCER_MB_S,
    MIN_CAUSE_SCORE,
    ONE_THREAD,
    SEND_BLOCKED_SHARE,
    SMALL_SEND_BLOCKED_SHARE,
)
from stallscope.shared.ack_gaps import ack_gap_brokers
from stallscope.shared.evidence import Evidence
from stallscope.shared.readable import has_nothing_readable, unreadable_note
from stallscope.shared.rundir import RunDir
from stallscope.shared.signals import (
    INIT_SHARE_DOMINANT,
    RING_TOTAL_HEAVY,
    close_mid_header_seen,
    header_stalls_during_run,
    init_share,
    is_app_limited,
    is_rwnd_limited,
    num,
    ring_repeated,
)
from stallscope.shared.vocabulary import (
    ACK_PATH,
    ACK_TIMEOUT,
    BROKER_FAILURE,
    BROKER_PAUSED,
    BROKER_RING,
    CAUSES,
    CLIENT_PRODUCER,
    COMPLETED,
    COMPLETED_SHORTFALL,
    CRASHED,
    FAILED,
    FLOW_CONTROL,
    INIT_LIFECYCLE,
    KILLED,
    NONE,
    TIE_ORDER,
    UNKNOWN,
    knobs_of_cause,
)

#: The fault knobs that hint at each cause.
FAULTS: dict[str, tuple[str, ...]] = {cause: knobs_of_cause(cause) for cause in CAUSES}


def _fault_hint(run: RunDir, s: Score) -> None:
    for knob in FAULTS[s.cause]:
        v = run.fault(knob)
        if v is not None and v is not False and (v != 0 or knob.endswith("_broker")):
            s.add(run, FAULT_HINT, f"fault {knob}={v} set", f"faults.{knob}", v)
            return


def _client_producer(run: RunDir, s: Score) -> None:
    hs = header_stalls_during_run(run)
    symptom = has_symptom(run)
    if symptom and hs is not None and hs > FEW_STALLS_DURING_RUN:
        s.add(run, 1.5, f"{hs} header stalls while the client was sending", "stalls.header_during_run", hs)
    n = mid_batch_pauses(run, queued=cores_queued(run))
    if n:
        s.add(run, 1.5, f"{n} partial-header/payload stalls on one sender: it paused mid-batch",
              "stalls.partial_payload_during_run", n)
    if symptom and is_app_limited(run):
        s.add(run, 1.0, f"senders app-limited (rwnd {run.get('tcp.rwnd_fraction')}, sndbuf "
              f"{run.get('tcp.sndbuf_fraction')})", "tcp.rwnd_fraction", run.get("tcp.rwnd_fraction"))
    share = send_blocked_share(run)
    if symptom and share is not None and share < SMALL_SEND_BLOCKED_SHARE:
        s.add(run, 0.5, f"send() blocked only {share:.1%} of the publish time", "throughput.send_blocked_s",
              run.get("throughput.send_blocked_s"))
    bw = num(run.get("throughput.publish_bw_mb_s"))
    if symptom and bw is not None and bw < LOW_PRODUCER_MB_S:
        s.add(run, 0.5, f"producer bandwidth {bw:.0f} MB/s", "throughput.publish_bw_mb_s", bw)


def _flow_control(run: RunDir, s: Score) -> None:
    if not has_symptom(run):
        return
    if is_rwnd_limited(run):
        s.add(run, 2.0, f"senders rwnd-limited for {run.get('tcp.rwnd_fraction')} of their busy time",
              "tcp.rwnd_fraction", run.get("tcp.rwnd_fraction"))
    share = send_blocked_share(run)
    if share is not None and share >= SEND_BLOCKED_SHARE:
        s.add(run, 1.0, f"send() blocked {share:.0%} of the publish time", "throughput.send_blocked_s",
              run.get("throughput.send_blocked_s"))


def _broker_ring(run: RunDir, s: Score) -> None:
    if ring_repeated(run):
        events = run.get("ring_full.events")
        s.add(run, 2.0, f"ring full {events} times", "ring_full.events", events)
    heavy = num(run.get("ring_full.max_total_ring_full"))
    if heavy is not None and heavy > RING_TOTAL_HEAVY:
        s.add(run, 1.0, f"total_ring_full reached {heavy:.0f}", "ring_full.max_total_ring_full", heavy)


def _ack_path(run: RunDir, s: Score) -> None:
    stopped = stopped_broker(run)
    if stopped is not None:
        s.add(run, 2.0, f"broker {stopped}'s ACKs stopped at {run.get(f'acks.per_broker.{stopped}')} while every "
              "other broker acknowledged its share (even split assumed)", f"acks.per_broker.{stopped}",
              run.get(f"acks.per_broker.{stopped}"))
        return
    gaps = ack_gap_brokers(run)
    n = len(run.get("acks.per_broker") or {})
    if is_ack_short(run) and gaps is not None and len(gaps) == 1 and n >= 2:
        b = gaps[0]
        s.add(run, 2.0, f"ACKs short on broker {b} only ({run.get(f'acks.per_broker.{b}')} acknowledged)",
              f"acks.per_broker.{b}", run.get(f"acks.per_broker.{b}"))
        got, sent = num(run.get(f"received.per_broker.{b}.messages")), num(run.get(f"acks.sent_per_broker.{b}"))
        if got is not None and sent is not None and got >= sent:
            s.add(run, 1.0, f"broker {b} received all {sent:.0f} messages sent to it",
                  f"received.per_broker.{b}.messages", got)


def _init_lifecycle(run: RunDir, s: Score) -> None:
    share = init_share(run)
    if share is not None and share >= INIT_SHARE_LARGE:
        pts = 2.0 if share >= INIT_SHARE_DOMINANT else 1.0
        s.add(run, pts, f"client init wait {run.get('init.wait_s')} s, {share:.0%} of the run", "init.wait_s",
              run.get("init.wait_s"))
    if is_ack_short(run) is False and after_stalls_end_in_close(run):
        s.add(run, 1.5, f"{run.get('stalls.total.after_client_done')} stalls after the client finished, ending "
              "in a close", "stalls.total.ended_in_close", run.get("stalls.total.ended_in_close"))
    if close_mid_header_seen(run):
        s.add(run, 1.0, "connection closed in the middle of a header", "refs.conn_closed.count",
              run.get("refs.conn_closed.count"))
    if run.get("init.hugepage_short") or run.get("init.hugetlb_fallback"):
        s.add(run, 0.5, "hugepage shortfall at init", "init.hugepage_short", run.get("init.hugepage_short"))


SCORERS: dict[str, Callable[[RunDir, Score], None]] = {
    CLIENT_PRODUCER: _client_producer,
    FLOW_CONTROL: _flow_control,
    BROKER_RING: _broker_ring,
    ACK_PATH: _ack_path,
    INIT_LIFECYCLE: _init_lifecycle,
    BROKER_PAUSED: score_paused,
    BROKER_FAILURE: score_failed,
}


def score_causes(run: RunDir) -> dict[str, Score]:
    """Score every cause for one run."""
    scores: dict[str, Score] = {}
    for cause in CAUSES:
        s = Score(cause)
        SCORERS[cause](run, s)
        if s.points > 0:
            _fault_hint(run, s)
        scores[cause] = s
    if scores[BROKER_PAUSED].points >= 2.0:
        # the publisher blocks on the stopped broker's connections, so the others wait in header recv and its
        # own senders sit window-limited: producer and flow-control signals that the pause explains
        for other in (CLIENT_PRODUCER, FLOW_CONTROL):
            if scores[other].points > 0:
                scores[other].points /= 2
                scores[other].reasons.append("halved: a paused broker explains them")
    if scores[BROKER_RING].points >= 2.0 and scores[FLOW_CONTROL].points > 0:
        scores[FLOW_CONTROL].points /= 2  # ring pressure explains the backpressure
        scores[FLOW_CONTROL].reasons.append("halved: repeated ring full explains the backpressure")
    return scores


def _ended_by_kill(run: RunDir, base: dict[str, Any]) -> dict[str, Any] | None:
    """A run that did not complete because a broker was killed, or whose client was killed or crashed: what the
    lines state is the diagnosis (a killed broker names the cause; a killed client alone does not)."""
    status = run.get("outcome.status")
    killed = run.get("outcome.killed_brokers") or []
    if status not in (KILLED, CRASHED, FAILED) and not (status == ACK_TIMEOUT and killed):
        return None
    cites = [Evidence(run.run_id, c.get("file"), c.get("line"), c.get("text"), "outcome.status", status).to_dict()
             for c in (run.get("outcome.cites") or [])[:5]]
    reason = run.get("outcome.reason") or status
    if killed:
        return base | {"bottleneck": BROKER_FAILURE, "confidence": "high" if cites else "medium",
                       "matches_expected": None if base["expected_cause"] is None else False,
                       "summary": f"broker {', '.join(map(str, killed))} killed, and the run {status.replace('_', ' ')}"
                       f": {reason}.", "evidence_for": cites, "evidence_against": []}
    if status in (KILLED, CRASHED):
        return base | {"bottleneck": UNKNOWN, "confidence": "low", "matches_expected": None,
                       "summary": f"The client {status}: {reason}; the logs name no cause before it.",
                       "evidence_for": cites, "evidence_against": []}
    return None
def _producer_unproven(run: RunDir) -> bool:
    """With CPU evidence: no producer fault set and the producer thread on CPU under ``ONE_THREAD`` of the publish
    (a fault-free run is named a slow producer with high confidence only when its own evidence shows it)."""
    if publish_cpu(run) is None or any(run.fault(k) not in (None, 0, False) for k in PRODUCER_FAULTS):
        return False
    share = producer_share(run)
    return share is None or share < ONE_THREAD


def diagnose(run: RunDir) -> dict[str, Any]:
    """Name the run's most likely bottleneck (the claims.json ``diagnosis`` entry)."""
    expected = run.manifest.get("expected_cause") if run.manifest else run.get("expected_cause")
    base: dict[str, Any] = {"run_id": run.run_id, "scenario": run.scenario, "expected_cause": expected}
    if not run.harness_ok:
        return base | {"bottleneck": NONE, "confidence": "low", "matches_expected": None,
                       "summary": "No diagnosis: the harness failed (" + "; ".join(run.harness_errors) + ").",
                       "evidence_for": [], "evidence_against": []}
    if run.get("evidence.judged_on_nothing") and run.get("outcome.source") == "driver" and run.get(
            "outcome.status") in (COMPLETED, COMPLETED_SHORTFALL):
        return base | {"bottleneck": NONE, "confidence": "medium", "matches_expected": None,
                       "summary": f"No failure to diagnose: {run.get('outcome.reason')} (the driver's log only; "
                       "no client or broker log to read a cause from).", "evidence_for": [],
                       "evidence_against": []}
    if run.get("evidence.judged_on_nothing"):
        bad, total = run.get("evidence.lines_unreadable"), run.get("evidence.lines_total")
        return base | {"bottleneck": UNKNOWN, "confidence": "low", "matches_expected": None,
                       "summary": f"Judged on nothing: {bad} of {total} lines unreadable and no cause can be read.",
                       "evidence_for": [], "evidence_against": []}
    if has_nothing_readable(run):
        return base | {"bottleneck": UNKNOWN, "confidence": "low", "matches_expected": None,
                       "summary": f"No diagnosis: {unreadable_note(run)}.", "evidence_for": [],
                       "evidence_against": []}
    ended = _ended_by_kill(run, base)
    if ended is not None:
        return ended
    scores = score_causes(run)
    ranked = sorted(scores.values(), key=lambda s: (-s.points, TIE_ORDER.index(s.cause)))
    best, second = ranked[0], ranked[1]
    short = is_ack_short(run)
    if best.points < MIN_CAUSE_SCORE:
        during = num(run.get("stalls.total.during_run"))
        healthy = short is False
        conf = "high" if healthy else ("low" if short else "medium")
        summary = (f"No failure to diagnose: {int(during or 0)} stalls during the run, ACKs "
                   f"{'short' if short else 'complete' if short is False else 'unknown'}"
                   f"{', no timeout' if run.get('acks.is_timeout') is False else ''}.")
        bottleneck = NONE
        if short:
            # Something failed, but the logs do not say what: an honest unknown, not "none".
            bottleneck = UNKNOWN
            summary = (f"Undetermined: ACKs fell short ({run.get('acks.received')} of {run.get('acks.expected')}) "
                       f"but no cause's signature is in the evidence (broker logs: "
                       f"{'yes' if run.get('stalls.per_broker') else 'none'}, TCP evidence: "
                       f"{'yes' if run.get('tcp') else 'none'}).")
        ev_for, against_of = [], ranked
    else:
        margin = best.points - second.points
        conf = ("high" if best.points >= CAUSE_HIGH_SCORE and margin >= CAUSE_HIGH_MARGIN
                else "medium" if best.points >= CAUSE_MEDIUM_SCORE and margin >= CAUSE_MEDIUM_MARGIN else "low")
        if conf == "high" and best.cause == CLIENT_PRODUCER and _producer_unproven(run):
            conf = "medium"
            best.reasons.append("medium: no producer fault and the producer thread was not on CPU nearly all the "
                                "publish (it may have waited for the machine)")
        summary = f"{best.cause.replace('_', ' ')} ({conf} confidence): " + "; ".join(best.reasons) + "."
        bottleneck, ev_for, against_of = best.cause, best.evidence, ranked[1:]
        if best.brokers:
            base["brokers"] = sorted(set(best.brokers))
    against = [{"cause": s.cause, "reason": (f"score {s.points:.1f}: " + "; ".join(s.reasons)) if s.reasons
                else "none of its signals present"} for s in against_of if s.cause != bottleneck]
    return base | {"bottleneck": bottleneck, "confidence": conf,
                   "matches_expected": None if expected is None else expected == bottleneck,
                   "summary": summary, "evidence_for": [e.to_dict() for e in ev_for],
                   "evidence_against": against}
