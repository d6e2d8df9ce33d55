"""What kind of run an ingested run is, so that a claim about one scenario is judged only on runs of that kind.

Our own runs carry their scenario's name. Logs from elsewhere do not: they are classified from their parameters,
the bytes published (``total_bytes``, else message count x message size), the order level and the ACK level. An
ingested run is of a scenario's kind when its bytes are within ``SIZE_TOLERANCE`` (``thresholds.py``) of the
scenario's and its order and ACK level equal the scenario's (a level the logs do not state does not disqualify it;
the label says so).
A run whose size is unknown is of no sized kind: claims about "the 10 MB e2e run" or "the 10 GiB run" are not
judged on it (only the claims about every run, ``*``, are), and its size is shown as "unknown", never 0.

A scenario's parameters come from the config the assessment was given (``--config``); without one (e.g.
``stallscope assess-logs``) from ``SHIPPED``, the shipped scenarios' sizes and levels (a test keeps the two equal).
"""

from __future__ import annotations

from typing import Any

from stallscope.panel.thresholds import SIZE_TOLERANCE
from stallscope.shared.rundir import RunDir

GIB = 1024**3
_DEFAULT_LEVELS = {"order": 0, "ack_level": 1}

#: The shipped scenarios' bytes, order and ACK level (config/config.yaml), for assessments without a config.
SHIPPED: dict[str, dict[str, int]] = {
    "e2e_10mb": {"total_bytes": 10_240_000, **_DEFAULT_LEVELS},
    "stress_10gb": {"total_bytes": 10 * GIB, **_DEFAULT_LEVELS},
    "slow_producer_10gb": {"total_bytes": 10 * GIB, **_DEFAULT_LEVELS},
    "flow_control": {"total_bytes": 419_430_400, **_DEFAULT_LEVELS},
    "ring_pressure": {"total_bytes": 104_857_600, **_DEFAULT_LEVELS},
    "ack_path": {"total_bytes": 104_857_600, **_DEFAULT_LEVELS},
    "init_delay": {"total_bytes": 52_428_800, **_DEFAULT_LEVELS},
    "partial_header": {"total_bytes": 104_857_600, **_DEFAULT_LEVELS},
    "keep_open": {"total_bytes": 104_857_600, **_DEFAULT_LEVELS},
    "network_limited": {"total_bytes": 78_643_200, **_DEFAULT_LEVELS},
    "slow_link": {"total_bytes": 209_715_200, **_DEFAULT_LEVELS},
    "network_control": {"total_bytes": 419_430_400, **_DEFAULT_LEVELS},
    "flow_control_mild": {"total_bytes": 157_286_400, **_DEFAULT_LEVELS},
    "slow_producer_mild": {"total_bytes": 536_870_912, **_DEFAULT_LEVELS},
    "cpu_hog": {"total_bytes": 1 * GIB, **_DEFAULT_LEVELS},
}


def run_bytes(params: dict[str, Any]) -> int | None:
    """Bytes the run published by its parameters: total_bytes, else message count x size; None when unknown."""
    total = params.get("total_bytes")
    if isinstance(total, int) and total > 0:
        return total
    count, size = params.get("message_count"), params.get("message_size")
    if isinstance(count, int) and isinstance(size, int) and count > 0 and size > 0:
        return count * size
    return None


def kind_params(run: RunDir) -> dict[str, Any]:
    """The parameters a run is classified by: the manifest's, else what the logs showed."""
    p = dict(run.manifest.get("params") or {}) if run.manifest else {}
    if not run_bytes(p) and run.get("acks.expected") and p.get("message_size"):
        p["message_count"] = run.get("acks.expected")
    return p


def fmt_size(n: int | None) -> str:
    """``10 GiB``, ``9.77 MiB``; ``unknown size`` for None (never 0)."""
    if n is None:
        return "unknown size"
    for unit, div in (("GiB", GIB), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= div:
            v = n / div
            return f"{v:.0f} {unit}" if abs(v - round(v)) < 0.005 else f"{v:.3g} {unit}"
    return f"{n} B"


def label(params: dict[str, Any]) -> str:
    """``10 GiB, order 0, ACK 1`` (``order unknown`` where the logs do not say)."""
    order, ack = params.get("order"), params.get("ack_level")
    return (f"{fmt_size(run_bytes(params))}, order {'unknown' if order is None else order}, "
            f"ACK {'unknown' if ack is None else ack}")


def scenario_params(name: str, configured: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """Bytes, order and ACK level of a scenario: the config's, else the shipped table's; None when unknown."""
    base = dict(SHIPPED.get(name) or {})
    conf = configured.get(name)
    if isinstance(conf, dict):
        for k in ("total_bytes", "order", "ack_level"):
            if conf.get(k) is not None:
                base[k] = conf[k]
        base.setdefault("order", _DEFAULT_LEVELS["order"])
        base.setdefault("ack_level", _DEFAULT_LEVELS["ack_level"])
    return base if base.get("total_bytes") else None


def is_of_kind(params: dict[str, Any], scen: dict[str, Any]) -> bool:
    """Whether a run with ``params`` is of the kind of a scenario with ``scen`` (module doc)."""
    size = run_bytes(params)
    if size is None or not scen.get("total_bytes"):
        return False
    if abs(size / scen["total_bytes"] - 1) > SIZE_TOLERANCE:
        return False
    return all(params.get(k) is None or scen.get(k) is None or params[k] == scen[k] for k in ("order", "ack_level"))


def matching_scenarios(params: dict[str, Any], names: list[str] | tuple[str, ...],
                       configured: dict[str, dict[str, Any]]) -> list[str]:
    """The named scenarios whose kind a run with ``params`` is of."""
    out = []
    for n in names:
        scen = scenario_params(n, configured)
        if scen is not None and is_of_kind(params, scen):
            out.append(n)
    return out


def known_scenarios(configured: dict[str, dict[str, Any]]) -> list[str]:
    """Every scenario a run can be classified against: the shipped ones and the configured ones."""
    return list(dict.fromkeys([*SHIPPED, *configured]))
