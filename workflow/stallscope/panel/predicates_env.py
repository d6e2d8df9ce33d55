"""Expert 3 (test & environment): predicates about whether the right experiment ran and was judged right."""

from __future__ import annotations

from stallscope.panel import kinds
from stallscope.panel.catalogue import Claim
from stallscope.panel.context import Context
from stallscope.panel.predicates_base import Finding, figures, finish, fmt, ok_runs
from stallscope.panel.thresholds import ORIGINAL_TOTAL_BYTES
from stallscope.panel.verdicts import INCONCLUSIVE, REFUTED, SUPPORTED, Verdict, make
from stallscope.shared.evidence import metric
from stallscope.shared.signals import INIT_SHARE_DOMINANT, init_share, num, run_duration_s


def reproduced_original_failure(ctx: Context, claim: Claim) -> Verdict:
    """Some run is the original failure: a 10 GiB publish that ended in an ACK timeout.

    Reads params ``total_bytes`` (else ``received.total.bytes``) and ``acks.is_timeout``. Evidence: bytes and
    timeout per run. A ≥ 10 GiB run with an ACK timeout → supported; 10 GiB runs without one, or only smaller
    runs ("wrong scenario") → refuted; timeout unknown → inconclusive.
    """
    runs = ok_runs(ctx, claim)
    large = [r for r in runs if (r.total_bytes or 0) >= ORIGINAL_TOTAL_BYTES]
    if not large:
        sizes = ", ".join(f"{r.run_id} {kinds.fmt_size(r.total_bytes)}" for r in runs) or "none"
        ev = [metric(r.run_id, "params.total_bytes", r.total_bytes) for r in runs]
        return make(claim.id, REFUTED, f"wrong scenario: no 10 GiB run, only {sizes}", [r.run_id for r in runs], ev)
    findings: list[Finding] = []
    for run in large:
        ev = [metric(run.run_id, "params.total_bytes", run.total_bytes)] + figures(run, ["acks.is_timeout",
                                                                                        "acks.completeness"])
        timeout = run.get("acks.is_timeout")
        if timeout is True:
            findings.append(Finding(SUPPORTED, f"{fmt(run.total_bytes / 2**30)} GiB run ended in an ACK timeout "
                                    f"({fmt(run.get('acks.completeness'))} of ACKs)", run.run_id, ev))
        elif timeout is False:
            findings.append(Finding(REFUTED, "10 GiB run completed without an ACK timeout", run.run_id, ev))
        else:
            findings.append(Finding(INCONCLUSIVE, "whether the ACK wait timed out is unknown", run.run_id, ev))
    hits = [f for f in findings if f.verdict == SUPPORTED]
    if hits:  # one reproduction is enough; healthy 10 GiB runs do not count against it
        return finish(claim, hits)
    return finish(claim, findings)


def init_delay_dominates(ctx: Context, claim: Claim) -> Verdict:
    """The client's init wait takes more than half of the run.

    Reads ``init.wait_s``, ``init.hugepage_short`` and the phase bounds (``phases.*.start_us/end_us``).
    Evidence: init wait, run length and share. Share > 0.5 → supported; ≤ 0.5 → refuted; unknown → inconclusive.
    """
    findings: list[Finding] = []
    for run in ok_runs(ctx, claim):
        share, total = init_share(run), run_duration_s(run)
        ev = figures(run, ["init.wait_s", "init.hugepage_short"]) + [metric(run.run_id, "run_duration_s", total)]
        if share is None:
            findings.append(Finding(INCONCLUSIVE, "init wait or run length unknown", run.run_id, ev))
            continue
        text = f"init wait {fmt(run.get('init.wait_s'))} s of a {fmt(total)} s run ({share:.0%})"
        verdict = SUPPORTED if share > INIT_SHARE_DOMINANT else REFUTED
        findings.append(Finding(verdict, text, run.run_id, ev))
    return finish(claim, findings)


def grep_verdict_brittle(ctx: Context, claim: Claim) -> Verdict:
    """A grep for error|failed|timeout would fail a run that published fine, because of benign warnings.

    Reads ``client_log_matches.{benign,real}`` and ``outcome.publish_ok``. Evidence: those figures and the
    cited matching lines. benign > 0, real == 0, publish ok → supported; benign matches in a run whose
    publish failed → refuted (the grep was right); no benign match or unknown → inconclusive.
    """
    findings: list[Finding] = []
    for run in ok_runs(ctx, claim):
        benign, real = num(run.get("client_log_matches.benign")), num(run.get("client_log_matches.real"))
        ok = run.get("outcome.publish_ok")
        ev = figures(run, ["client_log_matches.benign", "client_log_matches.real", "outcome.publish_ok"])
        if benign is None or ok is None:
            findings.append(Finding(INCONCLUSIVE, "log matches or publish outcome unknown", run.run_id, ev))
        elif benign > 0 and real == 0 and ok is True:
            findings.append(Finding(SUPPORTED, f"{int(benign)} benign matches would fail a grep test though the "
                                    "publish completed", run.run_id, ev))
        elif benign > 0 and ok is False:
            findings.append(Finding(REFUTED, "the grep test would fail, and so did the publish", run.run_id, ev))
        else:
            findings.append(Finding(INCONCLUSIVE, f"{fmt(benign)} benign and {fmt(real)} real matches: nothing "
                                    "to fool a grep", run.run_id, ev))
    return finish(claim, findings, mode="any")


def verdict_reflects_outcome(ctx: Context, claim: Claim) -> Verdict:
    """stallscope's publish verdict agrees with the client's exit status and ACK outcome.

    Reads ``outcome.{publish_ok,client_exit_code}`` and ``acks.is_timeout``. Evidence: those figures.
    publish_ok true exactly when the client exited 0 and no ACK timeout, in every run → supported; any
    disagreement → refuted; unknown → inconclusive.
    """
    findings: list[Finding] = []
    for run in ok_runs(ctx, claim):
        ok, code, timeout = run.get("outcome.publish_ok"), run.get("outcome.client_exit_code"), run.get(
            "acks.is_timeout")
        ev = figures(run, ["outcome.publish_ok", "outcome.client_exit_code", "acks.is_timeout"])
        if ok is None or code is None:
            findings.append(Finding(INCONCLUSIVE, "publish outcome or exit status unknown", run.run_id, ev))
        elif ok is True and timeout is True:
            findings.append(Finding(REFUTED, "judged ok although the ACK wait timed out", run.run_id, ev))
        elif ok == (code == 0):
            findings.append(Finding(SUPPORTED, f"publish_ok {str(ok).lower()}, client exit {code}", run.run_id, ev))
        else:
            findings.append(Finding(REFUTED, f"publish_ok {str(ok).lower()} but client exit {code}", run.run_id, ev))
    return finish(claim, findings)
