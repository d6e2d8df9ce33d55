"""The host as a bound: the cores, not one role, held the run; and what CPU evidence a high-confidence bound needs.

Why: the publisher, the brokers and their connections may share two cores (with whatever else the machine runs).
Then senders idle or wait on a window because the thread that would feed or drain them is waiting for a core,
and the sender shares alone would name the producer or flow control with confidence. The CPU samples
(``metrics.cpu``, ``analysis/cpu.py``) tell the two apart, from shares only:

- ``host_cpu`` when, over the publish, the machine's cores were busy ``SATURATED`` of the time, the brokers' and
  publisher's runnable threads waited for a core ``RUNQ_PER_CORE`` of all cores' time (the cores were the queue),
  and no single role was the limit: no thread of theirs on CPU ``ONE_THREAD`` of the wall time, no role slowed on
  purpose (a fault knob of the publisher or a broker: a paced producer sleeps, its senders idle as on a starved
  machine), no senders held by the receive window or send buffer over most of W;
- a bound read from the senders or one slow path (``client_producer``, ``flow_control``, ``send_buffer``,
  ``network``) is high only when the CPU samples can rule the machine out: the publish spanned enough samples, and
  the cores were not saturated or one thread of the run was on CPU ``ONE_THREAD`` of it (that thread, not the
  machine, was the limit); a ``client_producer`` bound moreover needs the producer thread on CPU ``ONE_THREAD`` of
  the publish or its slowness injected (a client-side fault knob): otherwise an idle sender may be a producer
  waiting for a core. Otherwise medium, saying why. Logs from elsewhere (no samples) are judged as before.
"""

from __future__ import annotations

from typing import Any

from stallscope.diagnose.bound_parts import entry
from stallscope.diagnose.thresholds import DOMINANT_SHARE, ONE_THREAD, OTHER_LOAD, RUNQ_PER_CORE, SATURATED
from stallscope.shared.evidence import metric
from stallscope.shared.rundir import RunDir
from stallscope.shared.signals import num
from stallscope.shared.vocabulary import (
    CLIENT_PRODUCER,
    HOST_CPU,
    NONE,
    PRODUCER_FAULTS,
    ROLE_FAULTS,
    SENDER_SHARES,
)


def publish_cpu(run: RunDir) -> dict[str, Any] | None:
    """The publish phase's CPU figures when measured and resolved by the samples, else None."""
    if run.get("cpu.status") != "measured":
        return None
    ph = run.get("cpu.phases.publish")
    return ph if isinstance(ph, dict) and ph.get("resolved") else None


def cores_queued(run: RunDir) -> bool:
    """Over the publish the cores were busy ``SATURATED`` of the time and the run's threads waited for them
    ``RUNQ_PER_CORE`` of all cores' time: any of its threads may have stalled waiting for a core."""
    ph = publish_cpu(run)
    busy, runq = num((ph or {}).get("host_busy_share")), num((ph or {}).get("sut_runq_per_core"))
    return busy is not None and runq is not None and busy >= SATURATED and runq >= RUNQ_PER_CORE


def producer_share(run: RunDir) -> float | None:
    """The publisher's producer thread's on-CPU share of the publish (None without CPU evidence naming it)."""
    ph = publish_cpu(run)
    return num(((ph or {}).get("threads") or {}).get("client", {}).get("producer", {}).get("cpu_share_max"))


def other_load(run: RunDir) -> float | None:
    """The share of the cores other processes took over the publish, when it is ``OTHER_LOAD`` or more."""
    ph = publish_cpu(run)
    other = num((ph or {}).get("other_share_of_cores"))
    return other if other is not None and other >= OTHER_LOAD else None


def within_sink(run: RunDir, share: float, same: str, bench: dict[str, Any] | None,
                senders: dict[str, float] | None) -> dict[str, Any]:
    """The bound of a run that delivered at least the raw sink's ``NONE_SHARE_OF_SINK``: ``none``, high unless
    other processes took ``OTHER_LOAD`` of the cores (then ``host_cpu`` when its signs hold, the sink measured apart
    not comparing, else medium) or the sink is no upper bound here (the broker beat it in a benchmark repeat)."""
    rid, delivered = run.run_id, run.get("throughput.delivered_mb_s")
    said = f"delivered {share:.0%} of the raw loopback sink for the same {same}"
    other = other_load(run)
    host = host_bound(run, senders) if other is not None else None
    if host is not None:  # other work held the cores and the run queued for them: the direct answer
        host["shares"] = {"share_of_sink": round(share, 4)} | host["shares"]
        host["summary"] += f" (it {said}, measured apart on a machine that may not have been this busy)"
        return host
    ev = [metric(rid, "throughput.delivered_mb_s", delivered)]
    if other is not None:
        return entry(NONE, "medium", f"{said}; but other processes took {other:.0%} of the cores during the "
                     "publish, so the sink measured apart may not compare",
                     [*ev, metric(rid, "cpu.phases.publish.other_share_of_cores", other)], [],
                     {"share_of_sink": round(share, 4), "other_share_of_cores": other})
    beaten = ((bench or {}).get("anchor") or {}).get("beaten_repeats") or []
    if beaten:  # the anchor did not bound the broker from above: "none" is then a weaker statement
        return entry(NONE, "medium", f"{said}; but the sink is not an upper bound here (the broker beat it in "
                     f"benchmark repeat(s) {', '.join(map(str, beaten))})", ev, [], {"share_of_sink": round(share, 4)})
    return entry(NONE, "high", said, ev, [], {"share_of_sink": round(share, 4)})


def _downstream_dominant(senders: dict[str, float] | None) -> bool:
    """The senders' largest share is a receive-window or send-buffer limit held over most of W (a dominant one)."""
    if not senders:
        return False
    best = max(senders, key=lambda k: senders[k])
    return best in ("rwnd_share", "sndbuf_share") and senders[best] >= DOMINANT_SHARE


def host_bound(run: RunDir, senders: dict[str, float] | None = None) -> dict[str, Any] | None:
    """The ``host_cpu`` bound entry when the evidence shows the cores held the publish, else None. It gives way to
    ``senders`` (their shares of W) held by the receive window or send buffer over most of W, the direct sign of
    a slow reader or buffer: the starved runs drawn here (hog or other work) all had idle senders instead, their
    one producer waiting for a core."""
    ph = publish_cpu(run)
    if ph is None or _downstream_dominant(senders) or any(run.fault(k) not in (None, 0, False) for k in ROLE_FAULTS):
        return None
    busy, runq = num(ph.get("host_busy_share")), num(ph.get("sut_runq_per_core"))
    top = ph.get("busiest_thread") or {}
    top_share = num(top.get("cpu_share")) or 0.0
    if not cores_queued(run) or top_share >= ONE_THREAD:
        return None
    conf = "high" if busy >= (1 + SATURATED) / 2 and runq >= 2 * RUNQ_PER_CORE else "medium"
    other = num(ph.get("other_share_of_cores"))
    rid = run.run_id
    summary = (f"the cores were busy {busy:.0%} of the publish and the brokers' and publisher's threads queued for "
               f"them ({runq:.2f} of all cores' time runnable but waiting); no thread of theirs was on CPU more "
               f"than {top_share:.0%} of it (busiest: {top.get('role')}/{top.get('thread')})"
               + (f"; other work took {other:.0%} of the cores" if other else ""))
    ev = [metric(rid, "cpu.phases.publish.host_busy_share", busy),
          metric(rid, "cpu.phases.publish.sut_runq_per_core", runq),
          metric(rid, "cpu.phases.publish.busiest_thread.cpu_share", top_share)]
    shares = {"host_busy_share": busy, "sut_runq_per_core": runq, "busiest_thread_cpu_share": top_share}
    if other is not None:
        shares["other_share_of_cores"] = other
    return entry(HOST_CPU, conf, summary, ev, [], shares)


#: Bounds read from the senders' shares or one slow path: what a machine short of cores also produces.
SENDER_BOUNDS = tuple(SENDER_SHARES.values())


def _medium(run: RunDir, out: dict[str, Any], why: str, name: str, value: Any) -> dict[str, Any]:
    out["confidence"] = "medium"
    out["summary"] += f"; medium: {why}"
    out["evidence"].append(metric(run.run_id, name, value).to_dict())
    return out


def cap_unproven(run: RunDir, out: dict[str, Any]) -> dict[str, Any]:
    """A high sender or slow-path bound stays high only when the CPU samples rule the machine out (module doc)."""
    if out.get("cause") not in SENDER_BOUNDS or out.get("confidence") != "high" or run.get("cpu.status") != "measured":
        return out
    ph = run.get("cpu.phases.publish")
    if not isinstance(ph, dict) or not ph.get("resolved"):
        return _medium(run, out, "the publish was too short for the CPU samples to rule out the machine",
                       "cpu.phases.publish.resolved", False if isinstance(ph, dict) else None)
    busy = num(ph.get("host_busy_share"))
    top = num((ph.get("busiest_thread") or {}).get("cpu_share")) or 0.0
    if busy is not None and busy >= SATURATED and top < ONE_THREAD:
        return _medium(run, out, f"the cores were busy {busy:.0%} of the publish and no thread of the run was on "
                       f"CPU more than {top:.0%} of it: the machine cannot be ruled out",
                       "cpu.phases.publish.host_busy_share", busy)
    return cap_producer(run, out)


def cap_producer(run: RunDir, out: dict[str, Any]) -> dict[str, Any]:
    """A high ``client_producer`` bound stays high only with the producer thread on CPU nearly all the publish,
    or its slowness injected; with CPU evidence that shows neither it becomes medium, saying why."""
    if out.get("cause") != CLIENT_PRODUCER or out.get("confidence") != "high" or publish_cpu(run) is None:
        return out
    if any(run.fault(k) not in (None, 0, False) for k in PRODUCER_FAULTS):
        return out
    share = producer_share(run)
    if share is not None and share >= ONE_THREAD:
        out["summary"] += f"; the producer thread was on CPU {share:.0%} of the publish"
        return out
    return _medium(run, out, f"the producer thread was on CPU only "
                   f"{'an unknown share' if share is None else f'{share:.0%}'} of the publish, so idle senders may "
                   "be a producer waiting for the machine rather than a slow one",
                   "cpu.phases.publish.threads.client.producer.cpu_share_max", share)
