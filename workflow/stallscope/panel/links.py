"""Which broker's link was the slow one, and where that broker ran.

A bound of "network" says the senders were busy but limited by neither window nor buffer; with several brokers
the user needs to know which path. Each broker's connections report ``bytes_acked`` and ``busy_us`` (TCP_INFO):
their ratio is the rate that path carried while it had data to send. A path that carried at most
``SLOW_RATIO`` of the median of the others stands out; only ratios are compared, so the test holds on a faster
or slower machine and for any link rates.

The run's placement (manifest) says where each broker ran: a node on a cluster, an emulated host locally.
"""

from __future__ import annotations

from statistics import median
from typing import Any

from stallscope.panel.context import Run
from stallscope.panel.signals import num

#: A broker whose path carried at most this share of the median of the others' is the slow link.
SLOW_RATIO = 0.5


def where(run: Run, broker: int | str) -> str:
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


def path_rates(run: Run) -> dict[str, float]:
    """Bytes per busy second of each broker's connections (TCP_INFO), brokers with no busy time left out."""
    totals: dict[str, list[float]] = {}
    for c in run.get("tcp.connections") or []:
        b, acked, busy = c.get("broker"), num(c.get("bytes_acked")), num(c.get("busy_us"))
        if b is None or acked is None or busy is None:
            continue
        t = totals.setdefault(str(b), [0.0, 0.0])
        t[0] += acked
        t[1] += busy
    return {b: a / (u / 1e6) for b, (a, u) in totals.items() if u > 0}


def slow_broker(run: Run) -> dict[str, Any] | None:
    """The broker whose path carried at most ``SLOW_RATIO`` of the others' median rate; None if none stands
    out (or fewer than two brokers report)."""
    rates = path_rates(run)
    if len(rates) < 2:
        return None
    b = min(rates, key=lambda k: rates[k])
    others = median(v for k, v in rates.items() if k != b)
    if others <= 0 or rates[b] > SLOW_RATIO * others:
        return None
    return {"broker": b, "where": where(run, b), "rate_mb_s": round(rates[b] / 1e6, 3),
            "others_mb_s": round(others / 1e6, 3), "ratio": round(rates[b] / others, 4)}
