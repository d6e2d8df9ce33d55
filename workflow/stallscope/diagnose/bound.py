"""The throughput bound of a run: what limited how fast it delivered, whether it completed or not.

The failure diagnosis (``diagnosis.py``) answers "why did it fail?"; the bound answers the question asked of
every run: "what held its throughput?". It is read from shares and ratios only, so a faster or slower machine
gives the same answer:

- ``init_lifecycle`` when init and the time after the last ACK take ``LIFECYCLE_SHARE`` of the wall time
  (first: the delivered figure counts only the publish, which is then a sliver of the run).
- ``none`` when the run delivered at least ``NONE_SHARE_OF_SINK`` of what this machine's raw loopback sink
  delivers for the same connections (the benchmark); without that measurement ``none`` cannot be decided.
- ``broker_ring`` and ``ack_path`` from the broker's repeated ring-full events and a one-broker ACK gap: they
  also make senders wait on the receiver, so they are named before the transport shares; ``ack_path`` also
  when the wait for the last ACKs after everything was sent takes ``LIFECYCLE_SHARE`` of the wall time.
- a minority of brokers whose connections are busy for most of their W while the others' idle, or busy
  ``SLOW_PATH_RATIO`` times longer than any other's: the run waits on those brokers' paths, so their own largest
  limited share names the bound and the brokers (averaged over every connection a slow link to one broker reads
  as an idle producer or a uniformly busy network).
- the senders' shares of the publish phase's wall time W (``metrics.tcp_phases``): idle (``client_producer``),
  rwnd-limited (``flow_control``), sndbuf-limited (``send_buffer``), busy with neither (``network``), the
  largest wins (the Web100 triage rule in ``../shared/reference/tcp-info.md``).
- ``host_cpu`` (before the paths and the senders) when the CPU samples show the cores saturated and the run's
  threads queueing for them with no thread of its own the limit (``bound_host.py``, which also says when a sender
  or path bound may be high, and when ``none`` is).
- without TCP_INFO: the producer's own ``Publish()`` bandwidth against what was delivered, with the EAGAIN
  count per batch (a producer that barely outruns delivery and never found a socket full bound the run).
"""

from __future__ import annotations

from typing import Any

from stallscope.diagnose import bound_harness
from stallscope.diagnose.bound_host import cap_unproven, host_bound, within_sink
from stallscope.diagnose.bound_parts import SENDER, WORDS, entry
from stallscope.diagnose.bound_paths import slow_brokers, where
from stallscope.diagnose.signals import is_ack_short
from stallscope.diagnose.thresholds import (
    ACK_LAG_RATIO,
    CLEAR_SHARE,
    DOMINANT_SHARE,
    EAGAIN_PER_BATCH,
    LIFECYCLE_SHARE,
    MAJOR_SHARE,
    NONE_SHARE_OF_SINK,
    PRODUCER_RATIO,
    SHARE_HIGH_MARGIN,
    SHARE_MEDIUM_MARGIN,
)
from stallscope.shared.ack_gaps import ack_gap_brokers, ack_gap_on_one_broker, in_flight_allowance
from stallscope.shared.evidence import Evidence, metric
from stallscope.shared.rundir import RunDir
from stallscope.shared.signals import num, ring_repeated
from stallscope.shared.vocabulary import ACK_PATH, BROKER_RING, CLIENT_PRODUCER, INIT_LIFECYCLE, NETWORK, UNKNOWN


def sink_share(run: RunDir, bench: dict[str, Any] | None) -> tuple[float | None, str | None]:
    """Delivered / raw-sink goodput for the same connections, or None and what is missing.

    The sink measured at this run's own shape (``raw_sink_at``: brokers, connections, message and batch size,
    total bytes) is preferred: connection setup weighs more in a small publish, so against the benchmark's own
    size a small healthy run would read short. Else the benchmark's sink, when the connections match."""
    delivered = num(run.get("throughput.delivered_mb_s"))
    if not isinstance(bench, dict):
        return None, "no benchmark of this machine's raw loopback sink (bench.json)"
    sink = _sink_at_shape(run, bench)
    scn = bench.get("scenario") or {}
    conns_bench = _conns(scn.get("brokers"), scn.get("threads_per_broker"))
    conns_run = _conns(run.param("brokers"), run.param("threads_per_broker"))
    if sink is None:
        sink = num((bench.get("median_mb_s") or {}).get("raw_sink"))
        if sink is None or sink <= 0:
            return None, "the benchmark has no raw-sink goodput"
        if conns_bench is None or conns_run is None or conns_bench != conns_run:
            return None, (f"the raw sink was measured over {conns_bench} connections, this run used "
                          f"{conns_run if conns_run is not None else 'an unknown number of'}")
    if delivered is None:
        return None, "no delivered bandwidth in the client log"
    return delivered / sink, None


def _sink_at_shape(run: RunDir, bench: dict[str, Any]) -> float | None:
    """The raw sink's median goodput measured at exactly this run's shape, None when it was not."""
    for at in bench.get("raw_sink_at") or []:
        shape, median = at.get("shape") or {}, num(at.get("median_mb_s"))
        if shape and median and median > 0 and all(
                num(run.param(k)) is not None and num(run.param(k)) == num(v) for k, v in shape.items()):
            return median
    return None


def _lag_stands_out(run: RunDir) -> bool:
    """The lagging broker acknowledged at most ``ACK_LAG_RATIO`` of the share of its messages the others did.

    A run cut off by its deadline owes every broker its last few batches; one broker owing a batch more than
    the allowance is that cut, not a stuck ACK path (seen under heavy flow control: 0.90 against 0.93-0.97).
    """
    gaps = ack_gap_brokers(run) or []
    acked, sent = run.get("acks.per_broker") or {}, run.get("acks.sent_per_broker") or {}
    shares = {b: num(acked.get(b)) / num(s) for b, s in sent.items()  # type: ignore[operator]
              if num(s) and num(acked.get(b)) is not None}
    if len(gaps) != 1 or gaps[0] not in shares or len(shares) < 2:
        return False
    others = [v for b, v in shares.items() if b != gaps[0]]
    return shares[gaps[0]] <= ACK_LAG_RATIO * min(others)


def _gap_broker_received_all(run: RunDir) -> bool | None:
    """Whether the broker whose ACKs lag received (nearly) all it was sent: within one batch per connection."""
    gaps = ack_gap_brokers(run) or []
    if len(gaps) != 1:
        return None
    b = gaps[0]
    got, sent = num(run.get(f"received.per_broker.{b}.messages")), num(run.get(f"acks.sent_per_broker.{b}"))
    if got is None or sent is None:
        return None
    return sent - got <= in_flight_allowance(run)


def _conns(brokers: Any, threads: Any) -> int | None:
    b, t = num(brokers), num(threads)
    return None if b is None or t is None else int(b * t)


def _wall_s(run: RunDir) -> float | None:
    starts = [num(run.get(f"phases.{p}.start_us")) for p in ("init", "publish", "drain", "post")]
    ends = [num(run.get(f"phases.{p}.end_us")) for p in ("init", "publish", "drain", "post")]
    s, e = [v for v in starts if v is not None], [v for v in ends if v is not None]
    return (max(e) - min(s)) / 1e6 if s and e and max(e) > min(s) else None


def lifecycle_share(run: RunDir) -> float | None:
    """Init plus post-ACK time over the run's wall time (None without phases, or when the logs' clocks are not
    known to agree: phases then span hosts whose clocks differ)."""
    if run.get("clock_aligned") is False:
        return None
    wall = _wall_s(run)
    if not wall or run.get("phases.publish") is None:
        return None
    outside = sum(num(run.get(f"phases.{p}.duration_s")) or 0.0 for p in ("init", "post"))
    return min(outside / wall, 1.0)


def _phase_share(run: RunDir, phase: str) -> float | None:
    wall = _wall_s(run) if run.get("clock_aligned") is not False else None
    d = num(run.get(f"phases.{phase}.duration_s"))
    return None if not wall or d is None else min(d / wall, 1.0)


def ack_wait_share(run: RunDir) -> float | None:
    """The drain (last send to the last ACK or the timeout) over the run's wall time."""
    return _phase_share(run, "drain")


def publish_share(run: RunDir) -> float | None:
    """The publish phase over the run's wall time."""
    return _phase_share(run, "publish")


def sender_shares(run: RunDir) -> tuple[dict[str, float] | None, str]:
    """The senders' shares of W over the publish phase, else over the whole connection lifetime."""
    ph = run.get("tcp_phases.publish")
    if isinstance(ph, dict) and ph.get("idle_share") is not None:
        return {k: float(ph[k]) for k in SENDER if ph.get(k) is not None}, "tcp_phases.publish"
    busy, rwnd, snd = (num(run.get(f"tcp.{k}")) for k in ("busy_us", "rwnd_limited_us", "sndbuf_limited_us"))
    conns = run.get("tcp.connections") or []
    span = sum(num(run.get(f"phases.{p}.duration_s")) or 0.0 for p in ("publish", "drain"))
    if busy is None or rwnd is None or snd is None or not conns or span <= 0:
        return None, ""
    wall = span * 1e6 * len(conns)
    busy = min(busy, wall)
    return {"idle_share": 1 - busy / wall, "rwnd_share": rwnd / wall, "sndbuf_share": snd / wall,
            "network_share": max(busy - rwnd - snd, 0.0) / wall}, "tcp (whole connection, publish + drain)"


def _from_senders(run: RunDir, shares: dict[str, float], source: str, capped: bool) -> dict[str, Any]:
    ranked = sorted(shares.items(), key=lambda kv: -kv[1])
    (best, top), second = ranked[0], (ranked[1][1] if len(ranked) > 1 else 0.0)
    margin = top - second
    conf = ("high" if top >= DOMINANT_SHARE and margin >= SHARE_HIGH_MARGIN
            else "medium" if top >= CLEAR_SHARE and margin >= SHARE_MEDIUM_MARGIN else "low")
    cause = SENDER[best]
    note = ""
    if cause == NETWORK:
        retrans = num(run.get("tcp_phases.publish.retrans"))
        if not retrans:
            conf, note = "low", " (no retransmits: on loopback that is the CPU moving data, not a path)"
        elif conf == "high":
            conf = "medium"
    if capped and conf == "high":
        conf = "medium"
    parts = ", ".join(f"{WORDS[k]} {v:.0%}" for k, v in ranked)
    prefix = "tcp_phases.publish" if source.startswith("tcp_phases") else "tcp"
    ev = [metric(run.run_id, f"{prefix}.{k}", round(v, 4)) for k, v in ranked]
    return entry(cause, conf, f"senders over W: {parts}{note}", ev, [], dict(shares))


def _from_producer(run: RunDir) -> dict[str, Any] | None:
    pb, dl = num(run.get("producer.publish_bw_mb_s")), num(run.get("producer.delivered_mb_s"))
    dl = dl if dl is not None else num(run.get("throughput.delivered_mb_s"))
    ea, batches = num(run.get("producer.eagain_count")), num(run.get("producer.send_batches"))
    if pb is None or dl is None or ea is None or pb <= 0:
        return None
    ratio = dl / pb
    per_batch = ea / batches if batches else (0.0 if ea == 0 else None)
    cites = run.get("producer.cites") or {}
    ev = [Evidence(run.run_id, c.get("file"), c.get("line"), c.get("text"), f"producer.{k}", v)
          for k, v in (("publish_bw", pb), ("eagain", int(ea)), ("delivered", dl))
          for c in [cites.get(k) or {}]]
    shares = {"delivered_over_publish_bw": round(ratio, 4), "eagain_per_batch": per_batch}
    if ratio >= PRODUCER_RATIO and per_batch is not None and per_batch <= EAGAIN_PER_BATCH:
        return entry(CLIENT_PRODUCER, "medium",
                      f"Publish() {pb:.2f} MB/s vs delivered {dl:.2f} MB/s ({ratio:.0%}), {int(ea)} EAGAIN: the "
                      "producer barely outran delivery and no socket buffer was ever full", ev,
                      ["TCP_INFO (sender idle share)"], shares)
    return entry(UNKNOWN, "low", f"Publish() {pb:.2f} MB/s vs delivered {dl:.2f} MB/s ({ratio:.0%}), "
                  f"{int(ea)} EAGAIN: the producer had headroom, the limit was downstream", ev,
                  ["TCP_INFO (rwnd/sndbuf shares) to name the downstream limit"], shares)


def decide_bound(run: RunDir, bench: dict[str, Any] | None = None) -> dict[str, Any]:
    """The run's throughput bound (the claims.json ``bound`` entry)."""
    if not run.harness_ok:
        return entry(UNKNOWN, "low", "no bound: the harness failed", [], ["a working run"], {})
    if run.get("evidence.judged_on_nothing") and run.get("throughput.source") != "driver":
        bad, total = run.get("evidence.lines_unreadable"), run.get("evidence.lines_total")
        return entry(UNKNOWN, "low", f"no bound: {bad} of {total} lines unreadable, nothing to judge on", [],
                      ["readable logs"], {})
    if (stated := bound_harness.stated_bound(run)) is not None:  # a kill, a pace, a stopped broker: first
        return stated
    share, sink_missing = sink_share(run, bench)
    if share is None and is_ack_short(run):
        sink_missing = None  # a run whose ACKs fell short was bounded by something: "none" is out either way
    missing = [f"'none' cannot be decided: {sink_missing}"] if sink_missing else []
    life = lifecycle_share(run)
    if life is not None and life >= LIFECYCLE_SHARE:
        # Before "none": the delivered figure counts only the publish, which here is a sliver of the run.
        conf = "high" if life >= (1 + LIFECYCLE_SHARE) / 2 else "medium"
        return entry(INIT_LIFECYCLE, conf, f"init and the time after the last ACK took {life:.0%} of the wall "
                      "time", [metric(run.run_id, "phases.init.duration_s", run.get("phases.init.duration_s")),
                               metric(run.run_id, "phases.post.duration_s", run.get("phases.post.duration_s"))],
                      [], {"lifecycle_share": round(life, 4)})
    if share is not None and share >= NONE_SHARE_OF_SINK:
        same = "connections and size" if _sink_at_shape(run, bench or {}) else "connections"
        return within_sink(run, share, same, bench, sender_shares(run)[0])
    base: dict[str, Any] = {} if share is None else {"share_of_sink": round(share, 4)}
    if ring_repeated(run):
        return entry(BROKER_RING, "high", f"the broker's ring was full {run.get('ring_full.events')} times",
                      [metric(run.run_id, "ring_full.events", run.get("ring_full.events"))], missing, base)
    received = _gap_broker_received_all(run) if ack_gap_on_one_broker(run) and _lag_stands_out(run) else False
    if received is not False:
        # Data still in flight to the lagging broker is flow control, not the ACK path: only a broker that
        # received what it was sent and still did not acknowledge it names the ACK path with confidence.
        lagging = ", ".join(where(run, b) for b in ack_gap_brokers(run) or [])
        return entry(ACK_PATH, "high" if received else "medium",
                      "one broker's ACKs lag what it was sent while the others are complete"
                      + (f" ({lagging})" if lagging else "")
                      + ("" if received else " (what it received is unknown)"),
                      [metric(run.run_id, "acks.per_broker", str(run.get("acks.per_broker")))], missing, base)
    if (waited := bound_harness.ack_wait(run)) is not None:
        waited["missing"] = missing
        return waited
    wait = ack_wait_share(run)
    if wait is not None and wait >= LIFECYCLE_SHARE:
        return entry(ACK_PATH, "high" if wait >= (1 + LIFECYCLE_SHARE) / 2 else "medium",
                      f"waiting for the last ACKs after everything was sent took {wait:.0%} of the wall time",
                      [metric(run.run_id, "phases.drain.duration_s", run.get("phases.drain.duration_s"))],
                      missing, base | {"ack_wait_share": round(wait, 4)})
    shares, source = sender_shares(run)
    if (host := host_bound(run, shares)) is not None:
        host["shares"] = base | host["shares"]
        host["missing"] = missing
        return host
    slow = slow_brokers(run)
    if slow is not None:
        slow["shares"] = base | slow["shares"]
        slow["missing"] = missing
        return cap_unproven(run, slow)
    if shares:
        publish = publish_share(run)
        out = _from_senders(run, shares, source, capped=sink_missing is not None
                            or (publish is not None and publish < MAJOR_SHARE))
    else:
        prod = _from_producer(run)
        out = prod if prod is not None else entry(
            UNKNOWN, "low", "no sender or producer evidence to name the bound", [],
            ["TCP_INFO", "the producer's Publish() bandwidth and EAGAIN count"], {})
    out["shares"] = base | ({} if life is None else {"lifecycle_share": round(life, 4)}) | out["shares"]
    out["missing"] = missing + out["missing"]
    return cap_unproven(run, out)
