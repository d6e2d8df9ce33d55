"""Expert 1 (correctness & code): predicates about what the diagnostics time and log."""

from __future__ import annotations

import statistics
from dataclasses import replace

from stallscope.panel.catalogue import Claim
from stallscope.panel.context import Context
from stallscope.panel.predicates_base import Finding, figures, finish, fmt, ok_runs
from stallscope.panel.thresholds import NEGLIGIBLE_OVERHEAD
from stallscope.panel.verdicts import INCONCLUSIVE, NOT_RUN, REFUTED, SUPPORTED, Verdict, make
from stallscope.shared.compare import ALPHA, rank_test, smallest_detectable, smallest_p
from stallscope.shared.evidence import Evidence, metric
from stallscope.shared.rundir import RunDir
from stallscope.shared.signals import close_mid_header_seen, kind_count, num, stall_threshold_ms
from stallscope.shared.trialstats import ratio_ci
from stallscope.shared.vocabulary import (
    CLOSE_MID_HEADER,
    FAULT_BROKER,
    HEADER_PAUSE_COUNT,
    HEADER_PAUSE_MS,
    knobs_of_site,
)

#: Fault knobs that make each recv site block (their value is a pause in ms, or any non-zero setting).
SITE_FAULTS: dict[str, tuple[str, ...]] = {site: knobs_of_site(site) for site in ("header", "partial", "payload")}


def _exercises(run: RunDir, site: str) -> bool:
    """The run's faults make ``site`` block for at least the stall threshold."""
    for knob in SITE_FAULTS[site]:
        v = num(run.fault(knob))
        if v is None or v <= 0:
            continue
        if knob.endswith("_ms") and site != "header" and v < stall_threshold_ms(run):
            continue
        return True
    return False


def recv_sites_covered(ctx: Context, claim: Claim) -> Verdict:
    """Each recv site logs stalls of its own kind in the runs whose faults make it block.

    Reads ``stalls.total.by_kind.{header,partial,payload}.count`` and the manifest's fault knobs.
    Evidence: the stall count per site and run. Per site: stalls in an exercising run → supported; zero stalls
    in every exercising run → refuted; counts unknown → inconclusive; no exercising run → not_run (for the
    header site, any run with header stalls counts).
    """
    runs = ok_runs(ctx, claim)
    findings: list[Finding] = []
    for site in ("header", "partial", "payload"):
        exercising = [r for r in runs if _exercises(r, site)]
        pool = exercising or (runs if site == "header" else [])
        counts = {r.run_id: kind_count(r, site) for r in pool}
        ev = [metric(rid, f"stalls.total.by_kind.{site}.count", c) for rid, c in counts.items()]
        known = [c for c in counts.values() if c is not None]
        if not pool:
            findings.append(Finding(NOT_RUN, f"no run made the {site} recv block"))
        elif any(c > 0 for c in known):
            n = sum(known)
            findings.append(Finding(SUPPORTED, f"{site} recv: {n} stalls logged", evidence=ev))
        elif len(known) < len(counts):
            findings.append(Finding(INCONCLUSIVE, f"{site} stall counts unknown", evidence=ev))
        elif exercising:
            findings.append(Finding(REFUTED, f"{site} recv was made to block but logged no stall", evidence=ev))
        else:
            findings.append(Finding(NOT_RUN, f"no run made the {site} recv block", evidence=ev))
    return replace(finish(claim, findings), runs=tuple(r.run_id for r in runs))


def partial_not_blamed_on_next_batch(ctx: Context, claim: Claim) -> Verdict:
    """Each injected pause inside a header is one partial-header stall on the fault broker.

    Reads faults ``header_pause_ms``, ``header_pause_count``, ``fault_broker``, ``close_mid_header`` and
    ``stalls.per_broker.<b>.by_kind.{partial,header}.count`` (``stalls.total`` without a fault broker).
    Evidence: injected count, partial and header stall counts. partial == injected (+1 for a close mid-header)
    → supported; fewer → refuted (missed, or absorbed by the next header stall); more → inconclusive.
    """
    findings: list[Finding] = []
    for run in ok_runs(ctx, claim):
        injected, pause = num(run.fault(HEADER_PAUSE_COUNT)), num(run.fault(HEADER_PAUSE_MS))
        if not injected or pause is None or pause < stall_threshold_ms(run):
            continue
        broker = run.fault(FAULT_BROKER)
        b = int(broker) if isinstance(broker, int) else None
        partial, header = kind_count(run, "partial", b), kind_count(run, "header", b)
        where = f"broker {b}" if b is not None else "all brokers"
        scope = f"stalls.per_broker.{b}" if b is not None else "stalls.total"
        ev = [metric(run.run_id, f"faults.{HEADER_PAUSE_COUNT}", int(injected)),
              metric(run.run_id, f"{scope}.by_kind.partial.count", partial),
              metric(run.run_id, f"{scope}.by_kind.header.count", header)]
        allowed = int(injected) + (1 if run.fault(CLOSE_MID_HEADER) else 0)
        if partial is None:
            findings.append(Finding(INCONCLUSIVE, f"partial stall count on {where} unknown", run.run_id, ev))
        elif int(injected) <= partial <= allowed:
            findings.append(Finding(SUPPORTED, f"{partial} partial-header stalls on {where} for {int(injected)} "
                                    f"injected pauses; header stalls there: {fmt(header)}", run.run_id, ev))
        elif partial < injected:
            missing = int(injected) - partial
            how = ("absorbed by the next header stall" if header is not None and header >= missing
                   else "not logged at all")
            findings.append(Finding(REFUTED, f"only {partial} of {int(injected)} injected header pauses on {where} "
                                    f"were logged as partial; {missing} {how}", run.run_id, ev))
        else:
            findings.append(Finding(INCONCLUSIVE, f"{partial} partial stalls on {where} for {int(injected)} "
                                    "injected pauses: other partial reads also blocked", run.run_id, ev))
    if not findings:
        return make(claim.id, NOT_RUN, "no run paused inside a header for longer than the stall threshold")
    return finish(claim, findings)


def close_mid_header_detected(ctx: Context, claim: Claim) -> Verdict:
    """The broker logs a close that came in the middle of a header.

    Reads fault ``close_mid_header`` and ``refs.conn_closed`` (text mentioning the partial batch header).
    Evidence: the close line count. Detected → supported; close lines all cited and none mid-header →
    refuted (the broker may spin there, as e56e7c0 does); refs missing or truncated → inconclusive.
    """
    findings: list[Finding] = []
    for run in ok_runs(ctx, claim):
        if not run.fault(CLOSE_MID_HEADER):
            continue
        seen = close_mid_header_seen(run)
        ev = figures(run, ["refs.conn_closed.count", "stalls.total.ended_in_close"])
        if seen is None:
            findings.append(Finding(INCONCLUSIVE, "close lines missing or not all cited", run.run_id, ev))
        elif seen:
            findings.append(Finding(SUPPORTED, "the broker logged the close during a partial header read and "
                                    "ended the connection", run.run_id, ev))
        else:
            findings.append(Finding(REFUTED, "a close mid-header was injected but no partial-header close was "
                                    "logged", run.run_id, ev))
    if not findings:
        return make(claim.id, NOT_RUN, "no run closed a connection in the middle of a header")
    return finish(claim, findings)


def stall_lines_state_bytes_read(ctx: Context, claim: Claim) -> Verdict:
    """Header stall lines report what recv returned instead of a guess.

    Reads ``refs.stall_header.items[].text`` and ``refs.stall_partial.items[].text``. Evidence: the lines
    themselves (cited). Any line saying "will be partial" → refuted; every cited line carries bytes_read= or
    recv_ret= → supported; no stall line → inconclusive.
    """
    texts: list[tuple[str, str]] = []
    for run in ok_runs(ctx, claim):
        for name in ("stall_header", "stall_partial"):
            for it in run.get(f"refs.{name}.items", []) or []:
                texts.append((run.run_id, str(it.get("text", ""))))
    if not texts:
        return make(claim.id, INCONCLUSIVE, "no header stall line was logged in these runs")
    runs = [rid for rid, _ in texts]
    bad = [rid for rid, t in texts if "will be partial" in t]
    if bad:
        return make(claim.id, REFUTED, f"{len(bad)} cited stall lines say 'will be partial' without the "
                    "recv result", runs)
    plain = [rid for rid, t in texts if "bytes_read=" not in t and "recv_ret=" not in t]
    if plain:
        return make(claim.id, INCONCLUSIVE, f"{len(plain)} of {len(texts)} cited stall lines carry no recv "
                    "result", runs)
    return make(claim.id, SUPPORTED, f"all {len(texts)} cited stall lines carry bytes_read= or recv_ret=", runs)


def overhead_negligible(ctx: Context, claim: Claim) -> Verdict:
    """Throughput with the timers on is within noise of throughput with them off.

    Reads the extra input ``overhead_bench``: ``ratio_timers_on_vs_off`` (median throughput on / off) and
    ``samples_mb_s.{broker,broker_notimers}``. Evidence: the ratio and both sample ranges. Ratio within 3 %
    (or faster with timers) → supported; slower by more while every timers-on sample is below every
    timers-off sample → refuted; slower by more but the samples overlap (the difference is inside the
    run-to-run spread) → inconclusive, settled by more repeats; absent → inconclusive.
    """
    bench = ctx.extra("overhead_bench")
    ratio = num(bench.get("ratio_timers_on_vs_off")) if isinstance(bench, dict) else None
    src = ctx.extra_paths.get("overhead_bench", "overhead_bench")
    if ratio is None:
        return make(claim.id, INCONCLUSIVE, "no overhead benchmark was run (timers on vs off)")
    samples = bench.get("samples_mb_s") or {}
    on = [v for v in samples.get("broker") or [] if num(v) is not None]
    off = [v for v in samples.get("broker_notimers") or [] if num(v) is not None]
    ev = [Evidence(run_id=None, file=src, metric="bench.ratio_timers_on_vs_off", value=round(ratio, 4))]
    if on and off:
        ev += [Evidence(run_id=None, file=src, metric="bench.samples_mb_s.broker", value=f"{min(on)}..{max(on)}"),
               Evidence(run_id=None, file=src, metric="bench.samples_mb_s.broker_notimers",
                        value=f"{min(off)}..{max(off)}")]
    spread = _interval_note(on, off, src, ev)
    if ratio >= 1 - NEGLIGIBLE_OVERHEAD:
        return make(claim.id, SUPPORTED, f"throughput with timers on is {ratio:.3f}× that with them off{spread}",
                    [], ev)
    if on and off and max(on) >= min(off):
        return make(claim.id, INCONCLUSIVE, f"median throughput with timers on is {ratio:.3f}× that with them off, "
                    f"but the samples overlap ({min(on):.0f}-{max(on):.0f} vs {min(off):.0f}-{max(off):.0f} MB/s): "
                    f"the difference is inside the run-to-run spread{spread}", [], ev)
    return make(claim.id, REFUTED, f"throughput with timers on is {ratio:.3f}× that with them off "
                f"(more than {NEGLIGIBLE_OVERHEAD:.0%} slower, every sample below){spread}", [], ev)


def _interval_note(on: list[float], off: list[float], src: str, ev: list[Evidence]) -> str:
    """The ratio's 95 % bootstrap interval and the smallest difference the samples could detect, as text
    (appended to ``ev`` as evidence): a verdict over 5 overlapping samples must say how much it could have seen."""
    if len(on) < 2 or len(off) < 2:
        return ""
    ci = ratio_ci(on, off)
    mde = smallest_detectable(on, off)
    ev.append(Evidence(run_id=None, file=src, metric="bench.ratio_interval_95",
                       value=f"{ci['lo']:.4f}..{ci['hi']:.4f}"))
    med_off = statistics.median(off)
    if mde is None:
        smallest = (f"{len(on)} vs {len(off)} samples cannot reach p ≤ {ALPHA} with a rank test "
                    f"(smallest possible p = {smallest_p(len(on), len(off)):.3g})")
    else:
        ev.append(Evidence(run_id=None, file=src, metric="bench.smallest_detectable_relative",
                           value=round(mde / med_off, 4)))
        smallest = f"the smallest difference these samples could detect is {mde / med_off:.1%} of timers-off"
    p = rank_test(on, off)
    return f"; ratio 95 % interval {ci['lo']:.3f}-{ci['hi']:.3f}, rank-test p = {p:.3g}, {smallest}"
