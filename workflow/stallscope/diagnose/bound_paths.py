"""One slow path among fast ones: the brokers whose paths hold the run, and where those brokers ran.

Averaged over every connection, a slow link (or a slow reader) on one broker reads as an idle producer (the
senders to the other brokers wait) or as a uniformly busy network (each connection busy for its own, shorter,
publish). Per broker it is plain, and one rule names it, from any of three signs of the same cause:

- ``idle``: a minority of brokers whose senders are busy for most of the run's W (``tcp_phases.publish.per_broker``,
  over the longest broker's W per connection) while the others' idle;
- ``late``: their senders busy ``SLOW_PATH_RATIO`` times longer than any other broker's;
- ``slow``: their connections carried at most 1/``SLOW_PATH_RATIO`` of any other broker's bytes per busy second
  (``tcp.connections``: ``bytes_acked`` over ``busy_us``) and were busy at least as long as any other's, and
  (where the publish phase is logged) for at least ``CLEAR_SHARE`` of the run's W: the path that carries less
  while it has data to send is the one the run waits for. A path busy for a few per cent of the run does not
  hold it, and its bytes per busy second are then a few kernel ticks of busy time (TCP_INFO counts busy time in
  jiffies): partial_header's paused broker read as a slow path on 24 ms of busy time in a 0.9 s publish.

Only shares and ratios between brokers of the same run are compared, never an absolute rate, so the rule holds
for any link rate and on a faster or slower machine. The slow brokers' largest limited share (rwnd, sndbuf or
neither) says how their path holds the run; "neither" is a network path only with retransmits. The run's
placement (manifest) says where each broker ran: a node on a cluster, an emulated host locally.
"""

from __future__ import annotations

from typing import Any

from stallscope.diagnose.bound_parts import SENDER, WORDS, entry
from stallscope.diagnose.thresholds import (
    CLEAR_SHARE,
    DOMINANT_SHARE,
    SHARE_HIGH_MARGIN,
    SHARE_MEDIUM_MARGIN,
    SLOW_PATH_RATIO,
)
from stallscope.shared.evidence import metric
from stallscope.shared.rundir import RunDir
from stallscope.shared.signals import num
from stallscope.shared.vocabulary import NETWORK

_LIMITS = ("rwnd_share", "sndbuf_share", "network_share")


def where(run: RunDir, broker: int | str) -> str:
    """"broker_1 on node n2" (cluster), "broker_1 at 10.231.0.11" (emulated host), else "broker_1"."""
    name = f"broker_{broker}"
    for r in ((run.manifest or {}).get("placement") or {}).get("roles") or []:
        if r.get("name") == name:
            host = r.get("host") or {}
            if host.get("node"):
                return f"{name} on node {host['node']}"
            if host.get("kind") == "netns":
                return f"{name} at {host.get('address')}"
    return name


def _from_connections(run: RunDir) -> dict[int, dict[str, float]]:
    """Per broker, from the connections' TCP_INFO: busy time, bytes per busy second, the limited shares of busy
    time, and retransmits."""
    sums: dict[int, dict[str, float]] = {}
    for c in run.get("tcp.connections") or []:
        b, busy = c.get("broker"), num(c.get("busy_us"))
        if not isinstance(b, int) or isinstance(b, bool) or busy is None:
            continue
        s = sums.setdefault(b, {"busy_us": 0.0, "bytes_acked": 0.0, "rwnd": 0.0, "snd": 0.0, "retrans": 0.0,
                                "acked_known": 1.0})
        acked = num(c.get("bytes_acked"))
        s["acked_known"] = s["acked_known"] if acked is not None else 0.0
        s["busy_us"] += busy
        s["bytes_acked"] += acked or 0.0
        s["rwnd"] += num(c.get("rwnd_limited_us")) or 0.0
        s["snd"] += num(c.get("sndbuf_limited_us")) or 0.0
        s["retrans"] += num(c.get("retrans")) or 0.0
    out = {}
    for b, s in sums.items():
        busy = s["busy_us"]
        rwnd, snd = min(s["rwnd"], busy), min(s["snd"], busy)
        out[b] = {"busy_us": busy, "retrans": s["retrans"],
                  "rate": s["bytes_acked"] / (busy / 1e6) if busy > 0 and s["acked_known"] else None,
                  "rwnd_share": rwnd / busy if busy else 0.0, "sndbuf_share": snd / busy if busy else 0.0,
                  "network_share": max(busy - rwnd - snd, 0.0) / busy if busy else 0.0}
    return out


def _common_window_us(per: dict[str, Any]) -> float | None:
    """The run's window per connection: the longest broker's W per connection. Busy shares over it, not over
    each broker's own W: a broker whose connections were done within a sliver of the run cannot hold the run,
    however busy they were in that sliver (seen: 70 % busy over 45 ms of a 0.9 s publish held up elsewhere)."""
    windows = [num(v.get("wall_us")) / max(int(num(v.get("connections")) or 1), 1)  # type: ignore[operator]
               for v in per.values() if isinstance(v, dict) and num(v.get("wall_us"))]
    return max(windows) if windows else None


def _figures(run: RunDir) -> dict[int, dict[str, Any]]:
    """Per broker: the publish phase's shares of W where logged (busy share, limited shares, retransmits),
    else the whole connections'; and the bytes per busy second where the connections report them."""
    per = run.get("tcp_phases.publish.per_broker")
    conns = _from_connections(run)
    figs: dict[int, dict[str, Any]] = {}
    if isinstance(per, dict) and len(per) >= 2:
        common = _common_window_us(per)
        for b, v in per.items():
            if not (isinstance(v, dict) and v.get("idle_share") is not None):
                continue
            n_conns, busy_us = max(int(num(v.get("connections")) or 1), 1), num(v.get("busy_us"))
            busy = busy_us / (n_conns * common) if common and busy_us is not None else 1 - float(v["idle_share"])
            figs[int(b)] = {"busy": min(busy, 1.0), "busy_us": int(v.get("busy_us") or 0),
                            "retrans": int(v.get("retrans") or 0), "source": "tcp_phases.publish.per_broker",
                            **{k: float(v.get(k) or 0.0) for k in _LIMITS}}
    else:
        figs = {b: {"busy": None, "busy_us": c["busy_us"], "retrans": int(c["retrans"]), "source": "tcp.per_broker",
                    **{k: c[k] for k in _LIMITS}} for b, c in conns.items()}
    for b, f in figs.items():
        f["rate"] = (conns.get(b) or {}).get("rate")
    return figs


def _pick_slow(figs: dict[int, dict[str, Any]]) -> tuple[list[int], str] | None:
    """The fewest brokers (at most half) whose path holds the run by one of the three signs, and which sign."""
    n = len(figs)
    by_busy = sorted(figs, key=lambda b: -figs[b]["busy_us"])
    rated = all(f["rate"] is not None for f in figs.values())
    by_rate = sorted(figs, key=lambda b: figs[b]["rate"]) if rated else []
    phased = all(f["busy"] is not None for f in figs.values())
    for k in range(1, n // 2 + 1):
        slow, rest = by_busy[:k], by_busy[k:]
        if phased and min(figs[b]["busy"] for b in slow) >= DOMINANT_SHARE:
            if max(figs[b]["busy"] for b in rest) < CLEAR_SHARE:
                return sorted(slow), "idle"
            if min(figs[b]["busy_us"] for b in slow) >= SLOW_PATH_RATIO * max(figs[b]["busy_us"] for b in rest):
                return sorted(slow), "late"
        if rated:
            slow, rest = by_rate[:k], by_rate[k:]
            if (max(figs[b]["rate"] for b in slow) * SLOW_PATH_RATIO <= min(figs[b]["rate"] for b in rest)
                    and min(figs[b]["busy_us"] for b in slow) >= max(figs[b]["busy_us"] for b in rest) > 0
                    and (not phased or min(figs[b]["busy"] for b in slow) >= CLEAR_SHARE)):
                return sorted(slow), "slow"
    return None


def _why(figs: dict[int, dict[str, Any]], slow: list[int], rest: list[int], how: str) -> str:
    if how == "idle":
        return f"the other brokers' senders idle {1 - max(figs[b]['busy'] for b in rest):.0%} or more"
    busy_slow = max(figs[b]["busy_us"] for b in slow)
    busy_rest = max(figs[b]["busy_us"] for b in rest)
    if how == "late":
        return f"busy {busy_slow / 1e6:.3g} s against at most {busy_rest / 1e6:.3g} s for any other broker"
    ratio = max(figs[b]["rate"] for b in slow) / min(figs[b]["rate"] for b in rest)
    return (f"{ratio:.0%} of the bytes per busy second of the slowest other broker, busy {busy_slow / 1e6:.3g} s "
            f"against at most {busy_rest / 1e6:.3g} s")


def slow_brokers(run: RunDir) -> dict[str, Any] | None:
    """The bound when a minority of brokers hold the run (a slow link or reader on their path), naming those
    brokers and where they ran; None when no minority stands out, or when the only sign is "busy with neither
    window nor buffer" without a retransmit (on loopback that is a sender pausing mid-batch with data in flight,
    not a path: left to the senders' shares over every connection)."""
    figs = _figures(run)
    if len(figs) < 2:
        return None
    picked = _pick_slow(figs)
    if picked is None:
        return None
    slow, how = picked
    rest = [b for b in figs if b not in slow]
    limited = {k: sum(figs[b][k] for b in slow) / len(slow) for k in _LIMITS}
    ranked = sorted(limited.items(), key=lambda kv: -kv[1])
    (best, top), second = ranked[0], ranked[1][1]
    cause = SENDER[best]
    if cause == NETWORK and not sum(figs[b]["retrans"] for b in slow):
        return None
    conf = "high" if top - second >= SHARE_HIGH_MARGIN else "medium" if top - second >= SHARE_MEDIUM_MARGIN else "low"
    src = figs[slow[0]]["source"]
    of = "W" if src.startswith("tcp_phases") else "busy time"
    ev = [metric(run.run_id, f"{src}.{b}.{k}", round(figs[b][k], 4) if k in _LIMITS else figs[b][k])
          for b in slow for k in ("busy_us", best)]
    ev += [metric(run.run_id, f"{src}.{b}.busy_us", figs[b]["busy_us"]) for b in rest]
    if how == "slow":
        ev += [metric(run.run_id, f"tcp.per_broker.{b}.bytes_per_busy_s", round(figs[b]["rate"]))
               for b in sorted(figs)]
    names = ", ".join(str(b) for b in slow)
    places = ", ".join(where(run, b) for b in slow)
    summary = (f"broker {names}: {WORDS[best]} {top:.0%} of its senders' {of}, {_why(figs, slow, rest, how)}: "
               f"the path to {places} bounds the run")
    busy_rest = max(figs[b]["busy_us"] for b in rest)
    shares: dict[str, Any] = {k: round(v, 4) for k, v in limited.items()}
    shares["slow_over_rest_busy"] = round(max(figs[b]["busy_us"] for b in slow) / busy_rest, 4) if busy_rest else None
    if all(f["rate"] for f in figs.values()):
        shares["slow_path_ratio"] = round(max(figs[b]["rate"] for b in slow) / min(figs[b]["rate"] for b in rest), 4)
    return entry(cause, conf, summary, ev, [], shares, brokers=slow)
