"""One slow path among fast ones: the brokers whose senders hold the run while the others' have nothing to do.

Averaged over every connection, a slow link (or a slow reader) on one broker reads as an idle producer (the
senders to the other brokers wait) or as a uniformly busy network (each connection busy for its own, shorter,
publish). Per broker (``tcp_phases.publish.per_broker``) it is plain: a minority of brokers whose senders are busy
for most of their W while the others idle, or busy ``SLOW_PATH_RATIO`` times longer than any other's.
"""

from __future__ import annotations

from typing import Any

from stallscope.panel.bound_parts import (
    CLEAR_SHARE,
    DOMINANT_SHARE,
    HIGH_MARGIN,
    MEDIUM_MARGIN,
    SENDER,
    SLOW_PATH_RATIO,
    WORDS,
    entry,
)
from stallscope.panel.context import Run
from stallscope.panel.verdicts import metric


def _pick_slow(per: dict[str, Any]) -> tuple[list[int], str] | None:
    """The fewest brokers (at most half) whose senders were busy for most of their W while the rest either idled
    (``CLEAR_SHARE``) or finished their sends in under 1/``SLOW_PATH_RATIO`` of the time, and which criterion."""
    figs = {int(b): (1 - float(v["idle_share"]), int(v.get("busy_us") or 0)) for b, v in per.items()
            if isinstance(v, dict) and v.get("idle_share") is not None}
    order = sorted(figs, key=lambda b: -figs[b][1])
    for k in range(1, len(order) // 2 + 1):
        slow, rest = order[:k], order[k:]
        if not rest or min(figs[b][0] for b in slow) < DOMINANT_SHARE:
            return None
        if max(figs[b][0] for b in rest) < CLEAR_SHARE:
            return sorted(slow), "idle"
        if min(figs[b][1] for b in slow) >= SLOW_PATH_RATIO * max(figs[b][1] for b in rest):
            return sorted(slow), "late"
    return None


def slow_brokers(run: Run) -> dict[str, Any] | None:
    """The bound when a minority of brokers hold the run: their senders busy for most of their W while the
    others' idle, or still busy long after the others finished sending (a slow link or reader on one broker).

    Those brokers' paths hold the run; their largest limited share (rwnd, sndbuf or neither) says how. Needs
    ``tcp_phases.publish.per_broker``.
    """
    per = run.get("tcp_phases.publish.per_broker")
    if not isinstance(per, dict) or len(per) < 2:
        return None
    picked = _pick_slow(per)
    if picked is None:
        return None
    slow, how = picked
    rest = [b for b in per if int(b) not in slow]
    limited = {k: sum(float(per[str(b)].get(k) or 0.0) for b in slow) / len(slow)
               for k in ("rwnd_share", "sndbuf_share", "network_share")}
    ranked = sorted(limited.items(), key=lambda kv: -kv[1])
    (best, top), second = ranked[0], ranked[1][1]
    cause = SENDER[best]
    conf = "high" if top - second >= HIGH_MARGIN else "medium" if top - second >= MEDIUM_MARGIN else "low"
    note = ""
    if cause == "network" and not sum(int(per[str(b)].get("retrans") or 0) for b in slow):
        # Busy with neither window nor buffer and never a retransmit is no path at all (on loopback it is a
        # sender pausing mid-batch with data in flight): leave it to the senders' shares over every connection.
        return None
    names = ", ".join(str(b) for b in slow)
    busy_slow = max(int(per[str(b)].get("busy_us") or 0) for b in slow)
    busy_rest = max(int(per[b].get("busy_us") or 0) for b in rest)
    idle_rest = min(float(per[b]["idle_share"]) for b in rest)
    why = (f"the other brokers' senders idle {idle_rest:.0%} or more" if how == "idle" else
           f"busy {busy_slow / 1e6:.3g} s against at most {busy_rest / 1e6:.3g} s for any other broker")
    ev = [metric(run.run_id, f"tcp_phases.publish.per_broker.{b}.{k}", per[str(b)].get(k))
          for b in slow for k in ("busy_us", best)]
    ev += [metric(run.run_id, f"tcp_phases.publish.per_broker.{b}.busy_us", per[b].get("busy_us")) for b in rest]
    summary = (f"broker {names}: {WORDS[best]} {top:.0%} of its senders' W{note}, {why}: the path to broker "
               f"{names} bounds the run")
    shares = {k: round(v, 4) for k, v in limited.items()} | {"slow_over_rest_busy": round(busy_slow / busy_rest, 4)
                                                             if busy_rest else None}
    return entry(cause, conf, summary, ev, [], shares, brokers=slow)
