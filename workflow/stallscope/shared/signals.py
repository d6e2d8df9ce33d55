"""Named signals over one run's metrics, shared by the diagnosis and the predicates.

Every function returns None when the figures it needs are unknown (null in metrics.json): callers turn
None into ``inconclusive``, never into ``refuted``. Thresholds are named constants with the reason.

"The seed" below is the hand-made panel assessment this tool grew from (``../shared/seed/``: Embarcadero's recv
stall diagnostics) and the runs it reported, which the shipped scenarios ``e2e_10mb`` (10,000 x 1 KiB, 4 brokers)
and ``stress_10gb`` (10 GiB, 4 brokers x 4 threads) reproduce; its figures are what a healthy or a failing run
looked like there.
"""

from __future__ import annotations

from stallscope import schemas
from stallscope.shared.rundir import RunDir

#: A stall this long is "long": the seed's post-completion blocks were ~10 s, its in-run ones 51-270 ms.
LONG_STALL_MS = 1000
#: Bursty delivery: at least this many header stalls during the run (the seed's 10 GB run had 704).
BURSTY_MIN_STALLS = 10
#: Sender limited by rwnd/sndbuf for less than this share of its busy time: the kernel always had room, so the
#: application was not writing (app-limited).
APP_LIMITED_FRACTION = 0.05
#: Senders idle (nothing queued) for at least this share of the publish phase's wall time: app-limited.
IDLE_DOMINANT = 0.5
#: Sender rwnd-limited for at least this share of its busy time: the receiver was not draining (flow control).
RWND_LIMITED_FRACTION = 0.30
#: Ring full more than once per broker is repeated (once at start-up is normal: the seed saw one per broker);
#: the broker logs only the first 10 events, so a total above 10 is heavy pressure.
RING_REPEATED_PER_BROKER = 1
RING_TOTAL_HEAVY = 10
#: Ring-full waits on at least this share of a broker's batches make the ring a limit (ring_pressure: ~0.7).
RING_FULL_SHARE = 0.05
#: Client init wait as a share of the whole run: above the first it dominates (the seed: ~49 s of ~60 s).
INIT_SHARE_DOMINANT = 0.5


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


def close_mid_header_seen(run: RunDir) -> bool | None:
    """The broker logged a close in the middle of a batch header."""
    ref = run.get("refs.conn_closed")
    if not isinstance(ref, dict):
        return None
    texts = [str(it.get("text", "")).lower() for it in ref.get("items") or []]
    if any("partial batch header" in t or "mid-header" in t or "mid header" in t for t in texts):
        return True
    return None if (ref.get("count") or 0) > len(texts) else False
