"""Named signals over one run's metrics, shared by the diagnosis and the predicates.

Every function returns None when the figures it needs are unknown (null in metrics.json): callers turn
None into ``inconclusive``, never into ``refuted``. Thresholds are named constants with the reason.

"The seed" below is the hand-made panel assessment this tool grew from (``../shared/seed/``: Embarcadero's recv
stall diagnostics) and the runs it reported, which the shipped scenarios ``e2e_10mb`` (10,000 x 1 KiB, 4 brokers)
and ``stress_10gb`` (10 GiB, 4 brokers x 4 threads) reproduce; its figures are what a healthy or a failing run
looked like there.
"""

from __future__ import annotations

from typing import Any

from stallscope import schemas
from stallscope.shared.rundir import RunDir

#: A stall this long is "long": the seed's post-completion blocks were ~10 s, its in-run ones 51-270 ms.
LONG_STALL_MS = 1000
#: More in-run stalls than this are a symptom; the seed's healthy start-up showed one ~55 ms stall per thread.
FEW_STALLS_DURING_RUN = 10
#: Share of a run's payload stalls on one broker above which they are one sender's pauses, not contention.
CONCENTRATED_SHARE = 0.8
#: Fewer payload stalls than this say nothing about a sender: a healthy 10 GiB run on 2 cores logged 2, both on
#: one broker (5,442 batches, every ACK in).
MIN_PAYLOAD_PAUSES = 3
#: One broker's payload stalls took at least this share of the publish phase: a sender's pauses that shaped the
#: run. Healthy 10 GiB runs on 2 cores showed up to 0.125 (machine pauses, on one broker by chance); the
#: partial_header scenario's two 150 ms payload pauses take a third of its publish.
PAUSE_SHARE = 0.2
#: ... or their median is at least this many stall thresholds: the machine's pauses on payload reads measured
#: 50-69 ms against a 50 ms threshold.
PAUSE_OVER_THRESHOLD = 2.0
#: Bursty delivery: at least this many header stalls during the run (the seed's 10 GB run had 704).
BURSTY_MIN_STALLS = 10
#: Sender limited by rwnd/sndbuf for less than this share of its busy time: the kernel always had room, so the
#: application was not writing (app-limited).
APP_LIMITED_FRACTION = 0.05
#: Senders idle (nothing queued) for at least this share of the publish phase's wall time: app-limited.
IDLE_DOMINANT = 0.5
#: Sender rwnd-limited for at least this share of its busy time: the receiver was not draining (flow control).
RWND_LIMITED_FRACTION = 0.30
#: Time blocked in send() as a share of the publish time: above the first the sender felt backpressure,
#: below the second it hardly ever waited for the kernel.
SEND_BLOCKED_SHARE = 0.20
SMALL_SEND_BLOCKED_SHARE = 0.05
#: Ring full more than once per broker is repeated (once at start-up is normal: the seed saw one per broker);
#: the broker logs only the first 10 events, so a total above 10 is heavy pressure.
RING_REPEATED_PER_BROKER = 1
RING_TOTAL_HEAVY = 10
#: Ring-full waits on at least this share of a broker's batches make the ring a limit (ring_pressure: ~0.7).
RING_FULL_SHARE = 0.05
#: Client init wait as a share of the whole run: above the first it dominates (the seed: ~49 s of ~60 s).
INIT_SHARE_DOMINANT = 0.5
INIT_SHARE_LARGE = 0.25


def num(value: object) -> float | None:
    """A number, or None for null/non-numbers (bools are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def stall_threshold_ms(run: RunDir) -> int:
    """The broker's [STALL] threshold for this run (the config's default when the run does not say)."""
    v = run.param("stall_threshold_ms")
    return int(v) if isinstance(v, int) and v > 0 else int(schemas.config_defaults("run")["stall_threshold_ms"])


def kind_count(run: RunDir, kind: str, broker: int | None = None) -> int | None:
    """Stall count of one kind (header, partial, payload), in total or for one broker."""
    base = "stalls.total" if broker is None else f"stalls.per_broker.{broker}"
    v = run.get(f"{base}.by_kind.{kind}.count")
    if v is None and run.get(f"{base}.count") == 0:
        return 0
    return None if v is None else int(v)


def max_stall_ms(run: RunDir) -> float | None:
    """Longest stall of any kind; 0 when there were none; None when unknown."""
    if run.get("stalls.total.count") == 0:
        return 0.0
    vals = [num(run.get(f"stalls.total.by_kind.{k}.max_ms")) for k in ("header", "partial", "payload")]
    known = [v for v in vals if v is not None]
    return max(known) if known else None


def phase_stalls(run: RunDir, phase: str, kind: str = "total") -> int | None:
    """Stalls (of ``kind`` or total) that began in ``phase``; None when phases are unknown."""
    if run.get("phases.source") in (None, "none"):
        return None
    v = run.get(f"stalls.total.by_phase.{phase}.{kind}")
    return None if v is None else int(v)


def header_stalls_during_run(run: RunDir) -> int | None:
    """Header stalls while the client was still sending, as the metrics define it (None when phases are unknown)."""
    if run.get("phases.source") in (None, "none"):
        return None
    v = run.get("stalls.total.during_run_by_kind.header")
    return None if v is None else int(v)


def run_duration_s(run: RunDir) -> float | None:
    """First phase start to last phase end, seconds."""
    starts, ends = [], []
    for p in ("init", "publish", "drain", "post"):
        s, e = num(run.get(f"phases.{p}.start_us")), num(run.get(f"phases.{p}.end_us"))
        if s is not None:
            starts.append(s)
        if e is not None:
            ends.append(e)
    if not starts or not ends or max(ends) <= min(starts):
        return None
    return (max(ends) - min(starts)) / 1e6


def init_share(run: RunDir) -> float | None:
    """Client init wait as a share of the run."""
    wait, total = num(run.get("init.wait_s")), run_duration_s(run)
    if wait is None or not total:
        return None
    return wait / total


def publish_s(run: RunDir) -> float | None:
    """Length of the publish phase (else the publisher's completion time)."""
    return num(run.get("phases.publish.duration_s")) or num(run.get("throughput.completed_s"))


def send_blocked_share(run: RunDir) -> float | None:
    """Time the senders spent blocked in send() over the publish time."""
    blocked = num(run.get("throughput.send_blocked_s"))
    if blocked is None and num(run.get("tcp.send_blocked_us")) is not None:
        blocked = num(run.get("tcp.send_blocked_us")) / 1e6  # type: ignore[operator]
    dur = publish_s(run)
    if blocked is None or not dur:
        return None
    return blocked / dur


def idle_share(run: RunDir) -> float | None:
    """Share of the publish phase's wall time the senders had nothing to send (``[TcpPhase]`` lines), or None."""
    return num(run.get("tcp_phases.publish.idle_share"))


def is_app_limited(run: RunDir) -> bool | None:
    """The senders were app-limited (a slow producer): idle most of the publish, when per-phase TCP_INFO says so;
    else neither rwnd nor sndbuf limited them for more than a sliver of their busy time.

    The idle share is read first: a sender busy for 1 % of the publish has a busy time so short that its
    rwnd/busy ratio is noise (seen: 0.01 to 0.08 across runs of one slow producer, all idle 99 %).
    """
    idle = idle_share(run)
    if idle is not None:
        return idle >= IDLE_DOMINANT
    rwnd, snd = num(run.get("tcp.rwnd_fraction")), num(run.get("tcp.sndbuf_fraction"))
    if rwnd is None or snd is None:
        return None
    return rwnd < APP_LIMITED_FRACTION and snd < APP_LIMITED_FRACTION


def is_rwnd_limited(run: RunDir) -> bool | None:
    """The senders waited for the receiver's window (the broker did not drain its sockets)."""
    rwnd = num(run.get("tcp.rwnd_fraction"))
    return None if rwnd is None else rwnd >= RWND_LIMITED_FRACTION


def _ring_full_share(run: RunDir, broker: str, events: float) -> float | None:
    """Ring-full events over the batches the broker received (None when its batch count is unknown)."""
    batches = num(run.get(f"received.per_broker.{broker}.batches"))
    return None if not batches else events / batches


def ring_repeated(run: RunDir) -> bool | None:
    """Ring full more than once on some broker, or heavily in total, and (where the broker's batch count is
    known) for at least ``RING_FULL_SHARE`` of its batches: a few waits over thousands of batches in a fast run
    are the consumer catching up, not a ring that holds the broker back."""
    per = run.get("ring_full.per_broker")
    if isinstance(per, dict) and per:
        counts = {b: num((v or {}).get("events")) for b, v in per.items()}
        for b, v in per.items():
            c, total = counts[b], num((v or {}).get("max_total_ring_full"))
            for n, limit in ((c, RING_REPEATED_PER_BROKER), (total, RING_TOTAL_HEAVY)):
                share = None if n is None else _ring_full_share(run, b, n)
                if n is not None and n > limit and (share is None or share >= RING_FULL_SHARE):
                    return True
        return False if all(c is not None for c in counts.values()) else None
    heavy = num(run.get("ring_full.max_total_ring_full"))
    events, brokers = num(run.get("ring_full.events")), run.param("brokers")
    if events is None:
        return None if heavy is None else heavy > RING_TOTAL_HEAVY
    return events > RING_REPEATED_PER_BROKER * (brokers or 1)


def is_ack_short(run: RunDir) -> bool | None:
    """ACKs fell short of the expected count (or the publisher timed out waiting)."""
    if run.get("acks.is_timeout") is True:
        return True
    rec, exp = num(run.get("acks.received")), num(run.get("acks.expected"))
    if rec is None or exp is None:
        return None if run.get("acks.is_timeout") is None else False
    return rec < exp


def has_symptom(run: RunDir) -> bool:
    """The run failed the way the panel chases: ACKs fell short or the publisher timed out.

    A healthy run that saturates loopback on two cores is receiver-bound (its senders look rwnd-limited) and
    logs short stalls spread over every broker from scheduling alone (seen: 177 stalls of 50-180 ms in a
    10 GiB run at 2.5 GB/s with every ACK in), so transport signals and stall counts without a shortfall
    name no bottleneck.
    """
    return is_ack_short(run) is True


def mid_batch_pauses(run: RunDir, queued: bool = False) -> int | None:
    """Stalls inside a batch that look like the sender pausing, not like scheduling noise.

    A partial-header stall means the sender stopped inside a 128-byte header. Payload stalls count only when
    one broker has nearly all of them, there are a few, and they are long or took a fair share of the publish (one
    sender pausing); spread over every broker, one or two, or short and a sliver of the publish, they are
    contention. ``queued``: the CPU samples show the run's threads queued for saturated cores during the publish;
    then a reader or a sender waiting for a core stalls mid-batch too, and only long stalls (``PAUSE_OVER_THRESHOLD``
    thresholds, median) are a sender's own pauses (seen: six 96 ms payload stalls on one broker, 22 % of a
    2.7 s publish, in a healthy 10 GiB run whose threads waited 6 cores' worth of time in the run queue).
    """
    partial = [phase_stalls(run, p, "partial") for p in ("init", "publish", "drain")]
    if all(v is None for v in partial):
        return None
    per = run.get("stalls.per_broker") or {}
    n = sum(v or 0 for v in partial)
    if queued:  # only the partial-header stalls of brokers where they were long
        n = sum(int(num(((v.get("by_phase") or {}).get(p) or {}).get("partial")) or 0)
                for v in per.values() if _long(run, (v.get("by_kind") or {}).get("partial") or {})
                for p in ("init", "publish", "drain"))
    payload = {b: num((v.get("by_kind") or {}).get("payload", {}).get("count")) or 0 for b, v in per.items()}
    total = sum(payload.values())
    # A sender's pauses that shaped the run take a fair share of its publish; the machine pausing (scheduling or
    # reclaim on shared cores) also stalls one broker's payload reads now and then, for a sliver of it.
    if (total >= MIN_PAYLOAD_PAUSES and len(payload) >= 2 and max(payload.values()) >= CONCENTRATED_SHARE * total
            and _paused(run, per[max(payload, key=lambda b: payload[b])].get("by_kind") or {}, queued)):
        n += int(total)
    return n


def _long(run: RunDir, kind: dict[str, Any]) -> bool:
    """One broker's stalls of one kind last ``PAUSE_OVER_THRESHOLD`` stall thresholds or more (median)."""
    median, threshold = num(kind.get("median_ms")), num(run.param("stall_threshold_ms"))
    return median is not None and bool(threshold) and median >= PAUSE_OVER_THRESHOLD * threshold  # type: ignore[operator]


def _paused(run: RunDir, kinds: dict[str, Any], queued: bool = False) -> bool:
    """One broker's payload stalls (``kinds``: its stalls by kind) are long (``PAUSE_OVER_THRESHOLD`` times the stall
    threshold, median) or, unless the run's threads queued for the cores, took ``PAUSE_SHARE`` of the publish
    phase: a sender's pauses, not the machine's."""
    if _long(run, kinds.get("payload") or {}):
        return True
    if queued:
        return False
    publish = num(run.get("phases.publish.duration_s"))
    ms = sum(num((kinds.get(k) or {}).get("total_ms")) or 0 for k in ("payload", "partial"))
    return bool(publish) and ms / 1000 / publish >= PAUSE_SHARE  # type: ignore[operator]


def after_stalls_end_in_close(run: RunDir) -> bool | None:
    """A long stall began after the client finished sending and some stall ended in a peer close."""
    after = num(run.get("stalls.total.after_client_done"))
    if after is None:
        post, drain = phase_stalls(run, "post"), phase_stalls(run, "drain")
        after = None if post is None and drain is None else float((post or 0) + (drain or 0))
    closed, longest = num(run.get("stalls.total.ended_in_close")), max_stall_ms(run)
    if closed is None or longest is None or after is None:
        return None
    return after >= 1 and closed >= 1 and longest >= LONG_STALL_MS


def close_mid_header_seen(run: RunDir) -> bool | None:
    """The broker logged a close in the middle of a batch header."""
    ref = run.get("refs.conn_closed")
    if not isinstance(ref, dict):
        return None
    texts = [str(it.get("text", "")).lower() for it in ref.get("items") or []]
    if any("partial batch header" in t or "mid-header" in t or "mid header" in t for t in texts):
        return True
    return None if (ref.get("count") or 0) > len(texts) else False
