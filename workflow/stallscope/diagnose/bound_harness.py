"""Bounds a harness's runs need beyond the sender shares: a killed broker, a paced producer, the ACK wait.

Logs from the authors' harnesses carry no TCP_INFO, but they state enough to name what held a run:

- ``broker_failure``: a broker was killed (on purpose or not) and the run waited on the recovery: the killed
  broker is named; high confidence when the recovery (kill to the ACK frontier) took ``MAJOR_SHARE`` of the run.
- ``paced``: the producer ran at a configured rate (``target_mbps=``) and delivered no more than it: the pace,
  not the network or the brokers, held it (a paced run cannot go faster than its target).
- ``ack_path`` from the clients' figures: the wait for the last ACKs after sending (Bandwidth against Send-done,
  or a driver's ``ack_wait``) took ``ACK_WAIT_SHARE`` of the clients' time.
- ``ack_path`` for one broker whose ACKs stopped while the others acknowledged their whole share, when the
  client logs no per-broker sent counts (the even split is then assumed, and the confidence stays medium).
"""

from __future__ import annotations

from typing import Any

from stallscope.diagnose.bound_parts import entry
from stallscope.diagnose.bound_paths import where
from stallscope.diagnose.signals import is_ack_short
from stallscope.diagnose.thresholds import (
    ACK_WAIT_EVERY_CLIENT,
    ACK_WAIT_SHARE,
    COMPLETE_SHARE,
    DOMINANT_SHARE,
    MAJOR_SHARE,
    PACED_CEILING,
    PACED_FLOOR,
    STOPPED_SHARE,
)
from stallscope.shared.evidence import Evidence, metric
from stallscope.shared.rundir import RunDir
from stallscope.shared.signals import num
from stallscope.shared.vocabulary import ACK_PATH, BROKER_FAILURE, COMPLETED, COMPLETED_SHORTFALL, PACED


def _cites(run: RunDir, metric_name: str, value: Any) -> list[Evidence]:
    out = [metric(run.run_id, metric_name, value)]
    for c in (run.get("outcome.cites") or [])[:3]:
        out.append(Evidence(run.run_id, c.get("file"), c.get("line"), c.get("text"), metric_name, value))
    return out


def killed_broker(run: RunDir) -> dict[str, Any] | None:
    """``broker_failure`` naming the killed brokers, or None when no broker was killed."""
    killed = run.get("outcome.killed_brokers") or []
    if not killed:
        return None
    rec, took = num(run.get("outcome.recovery_s")), num(run.get("throughput.completed_s"))
    share = rec / took if rec is not None and took else None
    done = run.get("outcome.status") in (COMPLETED, COMPLETED_SHORTFALL)
    conf = "high" if (share is not None and share >= MAJOR_SHARE) or not done else "medium"
    names = ", ".join(str(b) for b in killed)
    summary = (f"broker {names} killed: the run waited on its recovery"
               + (f" ({rec:.1f} s from the kill to ACKs flowing again, {share:.0%} of the run)" if share else "")
               + ("" if done else "; the run did not complete"))
    return entry(BROKER_FAILURE, conf, summary, _cites(run, "outcome.killed_brokers", names), [],
                 {} if share is None else {"recovery_share": round(share, 4)}, brokers=list(killed))


def paced(run: RunDir) -> dict[str, Any] | None:
    """``paced`` when the producer's configured rate capped what it delivered, else None."""
    target, got = num(run.get("throughput.pacing_target_mb_s")), num(run.get("throughput.delivered_mb_s"))
    if target is None or got is None or target <= 0:
        return None
    gap, took = num(run.get("throughput.pacing_gap_s")), num(run.get("throughput.completed_s"))
    rate, note = got, ""
    if gap and took and took > gap:
        rate = got * took / (took - gap)  # the same bytes over the time the producer was not held in its gap
        note = f", {rate:.2f} MB/s outside its {gap:g} s gap"
    ratio = rate / target
    if not PACED_FLOOR <= ratio <= PACED_CEILING:
        return None
    conf = "high" if abs(ratio - 1) <= 0.1 else "medium"
    return entry(PACED, conf, f"the producer was paced at {target:g} MB/s and delivered {got:.2f} MB/s{note} "
                 f"({ratio:.0%} of its pace): the configured rate, not the network or the brokers, held it",
                 [metric(run.run_id, "throughput.pacing_target_mb_s", target),
                  metric(run.run_id, "throughput.delivered_mb_s", got)], [],
                 {"rate_over_target": round(ratio, 4)} | ({"gap_s": gap} if gap else {}))


def _client_wait_shares(run: RunDir) -> list[float]:
    drv = run.get("driver.clients") or {}
    pairs = [(c.get("mb_s"), c.get("send_done_mb_s")) for c in drv.values()] or [
        ((c.get("throughput") or {}).get("delivered_mb_s"), (c.get("throughput") or {}).get("send_done_mb_s"))
        for c in run.get("clients") or []]
    out = []
    for bw, sd in pairs:
        b, s = num(bw), num(sd)
        if b and s:
            out.append(max(1 - b / s, 0.0))
    return out


def ack_wait(run: RunDir) -> dict[str, Any] | None:
    """``ack_path`` when the clients spent most of their time waiting for ACKs after sending."""
    share = num(run.get("throughput.ack_wait_share"))
    if share is None or share < ACK_WAIT_SHARE:
        return None
    each = _client_wait_shares(run)
    conf = "high" if each and min(each) >= ACK_WAIT_EVERY_CLIENT and share >= DOMINANT_SHARE else "medium"
    return entry(ACK_PATH, conf, f"the clients waited for the last ACKs {share:.0%} of their time after "
                 f"sending (Send-done {run.get('throughput.send_done_mb_s')} MB/s against "
                 f"{run.get('throughput.delivered_mb_s')} MB/s end to end): the ACK path, not sending, held them",
                 [metric(run.run_id, "throughput.ack_wait_share", share)], [],
                 {"ack_wait_share": round(share, 4)} | ({"least_client_share": round(min(each), 4)} if each else {}))


def stopped_broker(run: RunDir) -> str | None:
    """The one broker whose ACKs stopped while the others acknowledged their even share (no sent counts)."""
    if run.get("acks.sent_per_broker") or not is_ack_short(run):
        return None
    per, expected = run.get("acks.per_broker") or {}, num(run.get("acks.expected"))
    counts = {b: num(v) for b, v in per.items() if num(v) is not None}
    if expected is None or len(counts) < 2:
        return None
    part = expected / len(counts)
    low = [b for b, v in counts.items() if v is not None and v <= STOPPED_SHARE * part]
    rest = [v for b, v in counts.items() if b not in low]
    if len(low) == 1 and rest and all(v is not None and v >= COMPLETE_SHARE * part for v in rest):
        return low[0]
    return None


def stopped_broker_bound(run: RunDir) -> dict[str, Any] | None:
    """``ack_path`` naming the broker whose ACKs stopped (an even split assumed), else None."""
    b = stopped_broker(run)
    if b is None:
        return None
    return entry(ACK_PATH, "medium", f"broker {b} acknowledged {run.get(f'acks.per_broker.{b}')} messages while "
                 "every other broker acknowledged its whole share (the client logs no per-broker sent counts: an "
                 "even split assumed)", [metric(run.run_id, f"acks.per_broker.{b}", run.get(f"acks.per_broker.{b}"))],
                 ["per-broker sent counts"], {}, brokers=[int(b)])


def ended_early(run: RunDir) -> dict[str, Any] | None:
    """``broker_failure`` for brokers whose process ended before the runner stopped them (a live run's process
    record): the connections to a dead broker end busy on neither window nor buffer, which would otherwise read
    as a slow network path to it."""
    ended = run.get("liveness.ended_early") or {}
    if not ended:
        return None
    down = sorted(int(b) for b in ended)
    how = ", ".join(str(ended[str(b)].get("signal") or ended[str(b)].get("exit_code")) for b in down)
    return entry(BROKER_FAILURE, "high", ", ".join(where(run, b) for b in down)
                 + f" ended before the run did ({how}): the publish lost what it held",
                 [metric(run.run_id, f"liveness.ended_early.{b}", str(ended[str(b)])) for b in down], [], {}, down)


def stated_bound(run: RunDir) -> dict[str, Any] | None:
    """What the logs and the run's process record state held the run (a broker that died, a killed broker, a
    configured pace, a broker that stopped): it comes before any bound read from shares."""
    for rule in (ended_early, killed_broker, paced, stopped_broker_bound):
        stated = rule(run)
        if stated is not None:
            return stated
    return None
