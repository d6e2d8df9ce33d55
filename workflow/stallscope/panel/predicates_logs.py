"""Expert 2 (logs & causality): predicates about what the stall, ring and ACK lines prove."""

from __future__ import annotations

from typing import Any

from stallscope.panel.catalogue import Claim
from stallscope.panel.context import Context
from stallscope.panel.predicates_base import Finding, figures, finish, fmt, ok_runs
from stallscope.panel.verdicts import INCONCLUSIVE, NOT_RUN, REFUTED, SUPPORTED, Verdict, make
from stallscope.shared.signals import (
    BURSTY_MIN_STALLS,
    LONG_STALL_MS,
    RING_REPEATED_PER_BROKER,
    header_stalls_during_run,
    kind_count,
    max_stall_ms,
    num,
    phase_stalls,
    ring_repeated,
)
from stallscope.shared.vocabulary import ACK_STALL_AFTER


def broker_blocks_in_recv(ctx: Context, claim: Claim) -> Verdict:
    """The stall lines attribute the broker's waits to recv calls.

    Reads ``stalls.total.count`` and ``stalls.total.by_kind.*.count``. Evidence: the counts per run.
    Stalls logged in some run → supported; no run blocked (or counts unknown) → inconclusive.
    """
    findings: list[Finding] = []
    for run in ok_runs(ctx, claim):
        total = num(run.get("stalls.total.count"))
        ev = figures(run, ["stalls.total.count", "stalls.total.by_kind.header.count",
                           "stalls.total.by_kind.partial.count", "stalls.total.by_kind.payload.count"])
        if total is None:
            findings.append(Finding(INCONCLUSIVE, "stall counts unknown", run.run_id, ev))
        elif total > 0:
            parts = ", ".join(f"{k} {fmt(kind_count(run, k))}" for k in ("header", "partial", "payload"))
            findings.append(Finding(SUPPORTED, f"{int(total)} recv stalls logged ({parts})", run.run_id, ev))
        else:
            findings.append(Finding(INCONCLUSIVE, "no recv blocked past the threshold", run.run_id, ev))
    return finish(claim, findings, mode="any")


def blocks_during_publish(ctx: Context, claim: Claim) -> Verdict:
    """Brokers block in recv while the client is still publishing.

    Reads ``phases.source``, ``stalls.total.by_phase.publish.total``, ``stalls.total.during_run`` and
    ``stalls.total.after_client_done``. Evidence: those figures. Publish-phase stalls in some run →
    supported, unless another run stalled only after the client finished (refuted); no stall during the
    publish phase in any run (only after the client finished, or none at all) → refuted; phases unknown →
    inconclusive. A run with no stall at all says nothing against stalls seen in another run: a healthy
    10 GiB run on an idle machine may log none, so it only refutes when no run stalls.
    """
    findings: list[Finding] = []
    quiet: list[tuple[str, list[Any]]] = []
    for run in ok_runs(ctx, claim):
        pub = phase_stalls(run, "publish")
        after = num(run.get("stalls.total.after_client_done"))
        ev = figures(run, ["stalls.total.by_phase.publish.total", "stalls.total.during_run",
                           "stalls.total.after_client_done"])
        if pub is None:
            findings.append(Finding(INCONCLUSIVE, "phases unknown, stalls cannot be placed", run.run_id, ev))
        elif pub > 0:
            said = _where_and_bound(ctx, run)
            findings.append(Finding(SUPPORTED, f"{pub} stalls began during the publish phase{said}", run.run_id, ev))
        elif after:
            findings.append(Finding(REFUTED, f"no stall during the publish phase ({fmt(after)} only after the "
                                             "client finished)", run.run_id, ev))
        else:
            quiet.append((run.run_id, ev))
    neutral = any(f.verdict == SUPPORTED for f in findings)
    findings += [Finding(INCONCLUSIVE if neutral else REFUTED, "no stall at all", run_id, ev) for run_id, ev in quiet]
    return finish(claim, findings, mode="any")


def _where_and_bound(ctx: Context, run: Any) -> str:
    """``: 12 at network_manager.cc:1336 (header; broker_1 7, broker_3 5), ...; the run's bound: ...``: the sites
    and brokers of the stalls while the client was sending (``stalls.sites_while_sending``), against what bounded
    the run (its diagnosed bound, ``diagnose/bound.py``), so the answer to "did recv block during the run?" says
    where and how much it mattered."""
    sites = run.get("stalls.sites_while_sending") or []

    def cut(d: dict[str, Any]) -> str:
        n = d.get("returned_minus_one") or 0
        return f", {n} of them recv returning -1 (a receive timeout cut the wait)" if n else ""

    parts = [f"{d['count']} at {d['site']} ({d['kind']}, up to {d['max_ms']} ms{cut(d)}; "
             + ", ".join(f"broker_{b} {n}" for b, n in d["per_broker"].items()) + ")" for d in sites[:4]]
    more = f", and {len(sites) - 4} more sites" if len(sites) > 4 else ""
    bound = ctx.bound_of(run)
    said = ("; the run's bound: not diagnosed" if bound is None
            else f"; the run's bound: {bound['cause'].replace('_', ' ')} ({bound['summary']})")
    return ("; while the client was sending: " + "; ".join(parts) + more if parts else "") + said


def e2e_long_stalls_after_client_done(ctx: Context, claim: Claim) -> Verdict:
    """In the 10 MB e2e run the long stalls began after the client finished and ended in a close.

    Reads the longest stall (``stalls.total.by_kind.*.max_ms``), ``stalls.total.after_client_done``,
    ``stalls.total.by_phase.post.total`` and ``stalls.total.ended_in_close``. Evidence: those figures.
    A ≥ 1 s stall, stalls after the client finished and a close → supported; no ≥ 1 s stall, or long stalls
    with none after the client finished or none ending in a close → refuted; unknown → inconclusive.
    """
    findings: list[Finding] = []
    for run in ok_runs(ctx, claim):
        longest = max_stall_ms(run)
        after = num(run.get("stalls.total.after_client_done"))
        closed = num(run.get("stalls.total.ended_in_close"))
        ev = figures(run, ["stalls.total.by_kind.header.max_ms", "stalls.total.after_client_done",
                           "stalls.total.by_phase.post.total", "stalls.total.ended_in_close"])
        if longest is None:
            findings.append(Finding(INCONCLUSIVE, "stall durations unknown", run.run_id, ev))
        elif longest < LONG_STALL_MS:
            findings.append(Finding(REFUTED, f"no stall of {LONG_STALL_MS} ms or more (longest {fmt(longest)} ms)",
                                    run.run_id, ev))
        elif after is None or closed is None:
            findings.append(Finding(INCONCLUSIVE, "stalls cannot be placed relative to the client finishing",
                                    run.run_id, ev))
        elif after >= 1 and closed >= 1:
            findings.append(Finding(SUPPORTED, f"longest stall {fmt(longest)} ms; {int(after)} stalls after the "
                                    f"client finished, {int(closed)} ended in a close", run.run_id, ev))
        else:
            why = "none began after the client finished" if after < 1 else "none ended in a close"
            findings.append(Finding(REFUTED, f"longest stall {fmt(longest)} ms but {why}", run.run_id, ev))
    return finish(claim, findings)


def headers_late_not_never(ctx: Context, claim: Claim) -> Verdict:
    """Headers arrive late and bursty (many short in-run stalls), not never (one long stall per connection).

    Reads header stalls in the publish and drain phases, ``stalls.total.by_kind.header.{count,median_ms}``,
    ``stalls.total.ended_in_close``, params brokers × threads_per_broker. Evidence: those figures.
    ≥ 10 in-run header stalls with a median under 1 s → supported; at most one header stall per connection,
    ≥ 1 s, ending in a close → refuted; otherwise inconclusive.
    """
    findings: list[Finding] = []
    for run in ok_runs(ctx, claim):
        during = header_stalls_during_run(run)
        median = num(run.get("stalls.total.by_kind.header.median_ms"))
        count = kind_count(run, "header")
        closed = num(run.get("stalls.total.ended_in_close"))
        conns = (run.param("brokers") or 0) * (run.param("threads_per_broker") or 1) or None
        longest = max_stall_ms(run)
        ev = figures(run, ["stalls.total.by_phase.publish.header", "stalls.total.by_kind.header.count",
                           "stalls.total.by_kind.header.median_ms", "stalls.total.ended_in_close"])
        if during is not None and during >= BURSTY_MIN_STALLS and median is not None and median < LONG_STALL_MS:
            findings.append(Finding(SUPPORTED, f"{during} header stalls during the run, median {fmt(median)} ms",
                                    run.run_id, ev))
        elif (count is not None and conns and count <= conns and longest is not None and longest >= LONG_STALL_MS
              and closed is not None and closed >= 1):
            findings.append(Finding(REFUTED, f"{count} header stalls for {conns} connections, up to {fmt(longest)} "
                                    "ms, ending in a close: headers never came", run.run_id, ev))
        elif during is None or median is None:
            findings.append(Finding(INCONCLUSIVE, "in-run header stalls unknown", run.run_id, ev))
        else:
            findings.append(Finding(INCONCLUSIVE, f"only {during} header stalls during the run: too few to "
                                    "tell", run.run_id, ev))
    return finish(claim, findings, mode="any")


def ring_not_repeated_stall(ctx: Context, claim: Claim) -> Verdict:
    """"Ring full" appears at most once per broker.

    Reads ``ring_full.per_broker.<b>.events``, ``ring_full.max_total_ring_full`` (else ``ring_full.events``
    over params brokers). Evidence: events and max total per run. Repeated on some broker → refuted; at most
    once everywhere → supported; unknown → inconclusive.
    """
    findings: list[Finding] = []
    for run in ok_runs(ctx, claim):
        rep = ring_repeated(run)
        per = run.get("ring_full.per_broker") or {}
        counts = ", ".join(f"B{b}={fmt((v or {}).get('events'))}" for b, v in sorted(per.items()))
        ev = figures(run, ["ring_full.events", "ring_full.max_total_ring_full"])
        if rep is None:
            findings.append(Finding(INCONCLUSIVE, "ring-full counts unknown", run.run_id, ev))
        elif rep:
            findings.append(Finding(REFUTED, f"ring full repeated ({counts or fmt(run.get('ring_full.events'))})",
                                    run.run_id, ev))
        else:
            findings.append(Finding(SUPPORTED, f"ring full at most {RING_REPEATED_PER_BROKER} per broker "
                                    f"({counts or fmt(run.get('ring_full.events'))})", run.run_id, ev))
    return finish(claim, findings)


def long_stalls_end_in_close(ctx: Context, claim: Claim) -> Verdict:
    """Stalls of a second or more end in a peer close.

    Reads the longest stall and ``stalls.total.ended_in_close``. Evidence: both. In every run with a ≥ 1 s
    stall at least one stall ended in a close → supported; a run with a long stall and no close → refuted;
    no run with a long stall, or figures unknown → inconclusive. (metrics.json does not count ≥ 1 s stalls,
    so "every long stall" is checked as "some stall ended in a close"; the cited lines show which.)
    """
    findings: list[Finding] = []
    for run in ok_runs(ctx, claim):
        longest, closed = max_stall_ms(run), num(run.get("stalls.total.ended_in_close"))
        ev = figures(run, ["stalls.total.ended_in_close", "stalls.total.count"])
        if longest is None or closed is None:
            findings.append(Finding(INCONCLUSIVE, "stall durations or closes unknown", run.run_id, ev))
        elif longest < LONG_STALL_MS:
            continue
        elif closed >= 1:
            findings.append(Finding(SUPPORTED, f"longest stall {fmt(longest)} ms; {int(closed)} stalls ended in a "
                                    "close", run.run_id, ev))
        else:
            findings.append(Finding(REFUTED, f"a {fmt(longest)} ms stall and no stall ended in a close",
                                    run.run_id, ev))
    return finish(claim, findings, empty_reason=f"no stall of {LONG_STALL_MS} ms or more in these runs")


def acks_complete(ctx: Context, claim: Claim) -> Verdict:
    """Every message sent was acknowledged, in runs with ACK level ≥ 1 and no ACK fault.

    Reads params ``ack_level``, ``acks.{received,expected,completeness,is_timeout,per_broker}``. Evidence:
    received, expected, completeness; the ack_timeout / ack_per_broker lines are cited. received == expected →
    supported; fewer or a timeout → refuted; unknown → inconclusive.
    """
    findings: list[Finding] = []
    for run in ok_runs(ctx, claim):
        level = run.param("ack_level")
        if level == 0 or run.fault(ACK_STALL_AFTER) is not None:
            continue
        rec, exp = num(run.get("acks.received")), num(run.get("acks.expected"))
        ev = figures(run, ["acks.received", "acks.expected", "acks.completeness", "acks.is_timeout"])
        per = run.get("acks.per_broker") or {}
        split = " ".join(f"B{b}={v}" for b, v in sorted(per.items()))
        if run.get("acks.is_timeout") is True or (rec is not None and exp is not None and rec < exp):
            findings.append(Finding(REFUTED, f"{fmt(rec)} of {fmt(exp)} ACKs ({split or 'per broker unknown'})"
                                    + (", ACK timeout" if run.get("acks.is_timeout") else ""), run.run_id, ev))
        elif rec is None or exp is None:
            findings.append(Finding(INCONCLUSIVE, "ACK counts unknown", run.run_id, ev))
        else:
            findings.append(Finding(SUPPORTED, f"{int(rec)} of {int(exp)} ACKs received", run.run_id, ev))
    if not findings:
        return make(claim.id, NOT_RUN, "no run asked for ACKs without an ACK fault")
    return finish(claim, findings)
