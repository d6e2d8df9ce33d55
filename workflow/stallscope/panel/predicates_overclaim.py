"""Expert 4 (overclaim & next steps): predicates for the strong claims (root cause, fixed)."""

from __future__ import annotations

from stallscope.panel.catalogue import Claim
from stallscope.panel.context import Context
from stallscope.panel.predicates_base import Finding, figures, finish, fmt, ok_runs
from stallscope.panel.verdicts import INCONCLUSIVE, OVERCLAIM, REFUTED, SUPPORTED, Verdict, make
from stallscope.shared import compare
from stallscope.shared.ack_gaps import ack_gap_on_one_broker
from stallscope.shared.evidence import metric
from stallscope.shared.rundir import RunDir, dig
from stallscope.shared.signals import header_stalls_during_run, is_app_limited, is_rwnd_limited, ring_repeated
from stallscope.shared.trialstats import failed

#: The scenario that only shows lifecycle stalls; it can never carry a root-cause verdict on its own.
E2E_SCENARIO = "e2e_10mb"
TCP_FIGURES = ["acks.is_timeout", "acks.completeness", "tcp.rwnd_fraction", "tcp.sndbuf_fraction",
               "throughput.send_blocked_s", "ring_full.max_total_ring_full"]


def _root_cause_finding(run: RunDir) -> Finding:
    app, rwnd = is_app_limited(run), is_rwnd_limited(run)
    ring, ack_one = ring_repeated(run), ack_gap_on_one_broker(run)
    ev = figures(run, TCP_FIGURES) + [metric(run.run_id, "stalls.header_during_run", header_stalls_during_run(run))]
    rf, sf = fmt(run.get("tcp.rwnd_fraction")), fmt(run.get("tcp.sndbuf_fraction"))
    if ring:
        return Finding(REFUTED, "ring full repeated: broker ring pressure, not recv, holds the data", run.run_id, ev)
    if ack_one:
        return Finding(REFUTED, "ACKs short on one broker only while the others are complete: the ACK path",
                       run.run_id, ev)
    if app is None and rwnd is None:
        return Finding(OVERCLAIM, "ACK timeout but no TCP evidence to tell a slow producer from flow control",
                       run.run_id, ev)
    if app:
        hs = header_stalls_during_run(run)
        idle = run.get("tcp_phases.publish.idle_share")
        how = f"idle {fmt(idle)} of the publish, " if idle is not None else ""
        return Finding(REFUTED, f"senders app-limited ({how}rwnd-limited {rf}, sndbuf-limited {sf}) with {fmt(hs)} "
                       "header stalls during the run: a slow producer; blocking recv is the symptom", run.run_id, ev)
    if rwnd:
        if ring is None or ack_one is None:
            return Finding(INCONCLUSIVE, f"senders rwnd-limited ({rf}) but ring or per-broker ACK figures unknown",
                           run.run_id, ev)
        return Finding(SUPPORTED, f"senders rwnd-limited for {rf} of their busy time with no ring or ACK-path "
                       "anomaly: the broker did not drain its sockets", run.run_id, ev)
    return Finding(INCONCLUSIVE, f"TCP evidence between app-limited and rwnd-limited (rwnd {rf}, sndbuf {sf})",
                   run.run_id, ev)


def recv_root_cause_of_ack_timeout(ctx: Context, claim: Claim) -> Verdict:
    """"Blocking recv is the root cause of the ACK timeout", judged only on ≥ 1 GiB runs that timed out.

    Reads params ``total_bytes``, ``acks.is_timeout``, ``tcp.{rwnd_fraction,sndbuf_fraction}``,
    ``throughput.send_blocked_s``, ``ring_full.*``, ``acks.per_broker`` / ``acks.sent_per_broker`` /
    ``received.per_broker``. Evidence: those figures per run.
    No large run with an ACK timeout (e.g. the 10 MB e2e alone) → overclaim; timeout without TCP evidence →
    overclaim; ring repeated, ACK gap on one broker, or app-limited senders → refuted; rwnd-limited senders
    with no ring or ACK anomaly → supported (only if every such run agrees).
    """
    runs = ok_runs(ctx, claim)
    eligible = [r for r in runs if r.is_large and r.scenario != E2E_SCENARIO and r.get("acks.is_timeout") is True]
    unknown = [r for r in runs if r.is_large and r.scenario != E2E_SCENARIO and r.get("acks.is_timeout") is None]
    if not eligible and unknown:
        return make(claim.id, INCONCLUSIVE, "whether the large runs ended in an ACK timeout is unknown",
                    [r.run_id for r in unknown], [metric(r.run_id, "acks.is_timeout", None) for r in unknown])
    if not eligible:
        ids = [r.run_id for r in runs]
        ev = [metric(r.run_id, "acks.is_timeout", r.get("acks.is_timeout")) for r in runs]
        if runs and all(not r.is_large or r.scenario == E2E_SCENARIO for r in runs):
            why = ("only the 10 MB run: it shows where the broker blocks, not why the 10 GiB run timed out")
        else:
            why = "no run of 1 GiB or more ended in an ACK timeout, so there is no timeout to explain"
        return make(claim.id, OVERCLAIM, why, ids, ev)
    return finish(claim, [_root_cause_finding(r) for r in eligible])


def _commit_order(runs: list[RunDir]) -> tuple[list[str], bool]:
    """SUT ids oldest first (by commit date; order of appearance when a date is missing), and whether dated."""
    first: dict[str, tuple[str | None, int]] = {}
    for i, r in enumerate(runs):
        first.setdefault(r.sut_id, (dig(r.manifest, "sut.commit_date"), i))
    dated = all(d is not None for d, _ in first.values())
    key = (lambda s: (first[s][0], first[s][1])) if dated else (lambda s: ("", first[s][1]))
    return sorted(first, key=key), dated


def _fixed_on_one_commit(ctx: Context, claim: Claim, latest: str) -> Verdict:
    """Runs of one commit: judged on the catalogue's ``without_baseline`` scenarios only (the seed's own 10 GB
    run): completed in every trial → supported, failed in most → refuted, else inconclusive. A fault scenario
    that fails by design never decides it."""
    runs = [r for r in ctx.for_scenarios(claim.without_baseline) if r.harness_ok]
    over = ", ".join(claim.without_baseline)
    if not runs:
        return make(claim.id, INCONCLUSIVE, f"runs of one commit ({latest}) and no run of {over}, the scenario that "
                    "judges it without a baseline", [], [])
    ev = [metric(r.run_id, "acks.is_timeout", r.get("acks.is_timeout")) for r in runs]
    ids = [r.run_id for r in runs]
    got = [failed(r.metrics_or_empty) for r in runs]
    bad = [r.run_id for r, f in zip(runs, got, strict=True) if f is True]
    tally = f"{len(bad)} of {len(runs)} trials of {over} on {latest} ended in an ACK timeout or a failed publish"
    if compare.in_most(len(bad), len(runs)):
        return make(claim.id, REFUTED, f"{tally} (judged on {over} only, without a baseline)", ids, ev)
    if bad or None in got:
        unknown = sum(1 for f in got if f is None)
        more = f", {unknown} unknown" if unknown else ""
        return make(claim.id, INCONCLUSIVE, f"{tally}{more}: neither completed in every trial nor failed in most "
                    f"(judged on {over} only, without a baseline)", ids, ev)
    return make(claim.id, SUPPORTED, f"{over} completed in all {len(runs)} trials on {latest} (judged on {over} "
                "only, without a baseline: a scenario that fails by design does not decide it)", ids, ev)


def problem_fixed(ctx: Context, claim: Claim) -> Verdict:
    """"The problem is fixed", settled over trials by ``shared.compare.problem_fixed`` per scenario.

    Reads the SUT id and commit date of each run and whether it failed (ACK timeout or failed publish). Runs of
    one commit with ``without_baseline`` scenarios in the catalogue: judged on those only (``_fixed_on_one_commit``).
    Otherwise, per scenario run on both the earlier commits (baseline) and the latest (candidate): supported when
    the baseline fails in most trials and the candidate completes in all; refuted when the candidate fails in most
    trials; inconclusive otherwise. The latest commit failing in most trials of any scenario → refuted, even
    without a baseline of that scenario; runs of one commit only → overclaim (nothing to compare). Across
    scenarios: any refuted → refuted; a flaky or unknown one → inconclusive; then supported if one scenario is.
    """
    runs = ok_runs(ctx, claim)
    order, dated = _commit_order(runs)
    latest = order[-1]
    if len(order) < 2 and claim.without_baseline:
        return _fixed_on_one_commit(ctx, claim, latest)
    ev = [metric(r.run_id, "acks.is_timeout", r.get("acks.is_timeout")) for r in runs]
    ids = [r.run_id for r in runs]
    still, flaky = [], []
    for scen in sorted({r.scenario for r in runs}):
        after = [r for r in runs if r.scenario == scen and r.sut_id == latest]
        bad = [r.run_id for r in after if failed(r.metrics_or_empty) is True]
        (still if compare.in_most(len(bad), len(after)) else flaky).extend(bad)
    if still:
        return make(claim.id, REFUTED, f"{', '.join(still)} on {latest} still ended in an ACK timeout or a failed "
                    "publish", ids, ev)
    if flaky:
        return make(claim.id, INCONCLUSIVE, f"flaky: {', '.join(flaky)} on {latest} failed, the other trials of "
                    "the same scenario completed", ids, ev)
    if len(order) < 2:
        return make(claim.id, OVERCLAIM, f"runs of one commit only ({latest}): nothing to compare, the diagnostics "
                    "only observe", ids, ev)
    rows = []
    for scen in sorted({r.scenario for r in runs}):
        base = [failed(r.metrics_or_empty) for r in runs if r.scenario == scen and r.sut_id != latest]
        cand = [failed(r.metrics_or_empty) for r in runs if r.scenario == scen and r.sut_id == latest]
        if base and cand:
            verdict, reason = compare.problem_fixed(base, cand)
            rows.append({"scenario": scen, "problem_fixed": {"verdict": verdict, "reason": reason}})
    note = "" if dated else " (commit order from the run order: a commit date is missing)"
    verdict, detail = compare.problem_fixed_overall({"scenarios": rows})
    return make(claim.id, verdict, f"{', '.join(order[:-1])} → {latest}: {detail}{note}", ids, ev)
