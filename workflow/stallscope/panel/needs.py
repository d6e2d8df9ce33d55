"""The evidence a claim needs, checked against each run's inventory before its predicate sees the run.

Absence of a source is not evidence: a client log alone cannot refute a claim about broker stalls, and a broker
build without stall timers logs no ``[STALL]`` line however long it blocks. A run that lacks a needed source is
left out of the claim; when no run is left the verdict is ``not_run`` naming what is missing. Stall timers whose
presence is unknown (ingested logs with no ``[STALL]`` line) leave the claim ``inconclusive``. A run whose lines
are mostly unreadable is left out of every claim: it is judged on nothing.

Runs whose metrics predate the inventory (no ``evidence`` block) are taken as holding every source, as before.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from stallscope.panel.catalogue import Claim
from stallscope.panel.context import Context
from stallscope.panel.verdicts import INCONCLUSIVE, NOT_RUN, Verdict, make
from stallscope.shared.rundir import RunDir

#: Source name (catalogue ``needs``) -> the phrase that names it when missing.
SOURCES: dict[str, str] = {
    "broker_logs": "no broker logs",
    "client_log": "no client log",
    "stall_timers": "the broker build has no stall timers",
    "tcp_info": "no TCP_INFO from the client",
    "producer_profile": "no producer profile (Publish() bandwidth)",
    "per_broker_acks": "no per-broker ACK counts",
    "per_broker_sent": "no per-broker sent counts",
    "banner": "no test banner",
}


def _has(inv: dict[str, Any], source: str) -> bool | None:
    """True/False when the run holds/lacks the source; None when unknown (stall timers of an unknown build)."""
    if source == "broker_logs":
        return bool(inv.get("broker_logs"))
    if source == "client_log":
        return bool(inv.get("client_logs"))
    if source == "stall_timers":
        if not inv.get("broker_logs"):
            return False
        state = (inv.get("stall_timers") or {}).get("state")
        return True if state == "yes" else False if state == "no" else None
    return bool(inv.get(source))


def missing_for(run: RunDir, needs: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(missing, unknown) source phrases of one run for ``needs``."""
    inv = run.get("evidence")
    if not isinstance(inv, dict):
        return [], []
    if inv.get("judged_on_nothing"):
        return [f"most lines unreadable ({inv.get('lines_unreadable')} of {inv.get('lines_total')})"], []
    missing, unknown = [], []
    for src in needs:
        has = _has(inv, src)
        if has is False:
            missing.append("no broker logs" if src == "stall_timers" and not inv.get("broker_logs")
                           else SOURCES[src])
        elif has is None:
            unknown.append("whether the broker build has stall timers is unknown (no [STALL] line; declare it "
                           "with `assess-logs --stall-timers yes|no`)")
    return list(dict.fromkeys(missing)), unknown


def gate(ctx: Context, claim: Claim, relevant: list[RunDir]) -> tuple[Context, Verdict | None]:
    """Drop the runs that lack what ``claim`` needs; a verdict when none is left, else the narrowed context."""
    if not relevant:
        return ctx, None
    keep: list[RunDir] = []
    missing: dict[str, list[str]] = {}
    unknown: dict[str, list[str]] = {}
    for r in relevant:
        if not r.harness_ok:
            keep.append(r)
            continue
        miss, unk = missing_for(r, claim.needs)
        if miss:
            missing[r.run_id] = miss
        elif unk:
            unknown[r.run_id] = unk
        else:
            keep.append(r)
    if not missing and not unknown:
        return ctx, None
    if not keep:
        if unknown:
            why = "; ".join(f"{rid}: {', '.join(v)}" for rid, v in unknown.items())
            return ctx, make(claim.id, INCONCLUSIVE, f"cannot be judged: {why}", list(unknown),
                             settle=claim.settle_hint)
        why = "; ".join(f"{rid}: {', '.join(v)}" for rid, v in missing.items())
        return ctx, make(claim.id, NOT_RUN, f"evidence missing ({why})", list(missing), settle=claim.settle_hint)
    dropped = {r.run_id for r in relevant} - {r.run_id for r in keep}
    return replace(ctx, runs=tuple(r for r in ctx.runs if r.run_id not in dropped)), None
