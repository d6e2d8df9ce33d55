"""Changes across archived commits: for each scenario and key figure, the first commit of each step.

Like asv's regression detection, but on what each archive holds (a few trials per commit): the commits are
walked oldest first against a reference level, the commit where the last change began. A commit starts a new
change when its trials' 95 % median interval and the reference's do not overlap; the change is improved or
regressed by the figure's direction, and the reference moves to it. A single noisy commit therefore cannot
mark a change unless its whole interval leaves the reference's, and a slow drift is caught once it has
drifted clear of the last level. Commits with fewer than two trials of a scenario have no interval and are
skipped for that scenario (said on the page), never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stallscope.shared.trialstats import median_ci

#: Key figures of claims.json's ``runs[].key_figures`` tracked across commits, with higher-is-better.
TRACKED: dict[str, bool] = {"delivered_mb_s": True, "ack_completeness": True, "stalls_during_run": False}


_KINDS = ("header", "partial", "payload")


def _from_summary(summary: dict[str, Any]) -> dict[tuple[str, str], list[float]]:
    """The tracked figures of each trial from summary.json (stalls during the run: the three kinds summed)."""
    out: dict[tuple[str, str], list[float]] = {}
    for name, scen in summary["scenarios"].items():
        for t in scen["per_trial"]:
            f = t["figures"]
            kinds = [f.get(f"stalls_during_run.{k}") for k in _KINDS]
            got = {"delivered_mb_s": f.get("delivered_mb_s"), "ack_completeness": f.get("ack_completeness"),
                   "stalls_during_run": None if None in kinds else sum(kinds)}
            for fig, v in got.items():
                if v is not None:
                    out.setdefault((name, fig), []).append(float(v))
    return out


def _samples(claims: dict[str, Any], summary: dict[str, Any] | None = None) -> dict[tuple[str, str], list[float]]:
    if summary is not None:
        return _from_summary(summary)
    out: dict[tuple[str, str], list[float]] = {}
    for run in claims.get("runs") or []:
        kf = run.get("key_figures") or {}
        for fig in TRACKED:
            v = kf.get(fig)
            if isinstance(v, int | float) and not isinstance(v, bool):
                out.setdefault((run["scenario"], fig), []).append(float(v))
    return out


def detect_steps(archives: Sequence[tuple[dict[str, Any], str]], summaries: dict[str, dict[str, Any]] | None = None
                 ) -> tuple[list[dict[str, Any]], list[str]]:
    """Steps over ``archives`` = (claims, folder) oldest first; return (changes, notes on skipped commits).

    ``summaries`` maps a folder to its summary.json, whose per-trial figures are used when present (else the
    claims' run key figures).

    Each change names the scenario and figure, the last commit before the change and the first commit of it
    (both reports linked), the reference level's interval (``level``: the commit where it began) and the new
    one, the relative change and ``improved`` or ``regressed``.
    """
    summaries = summaries or {}
    per_commit = [(c["sut"]["id"], folder, _samples(c, summaries.get(folder))) for c, folder in archives]
    keys = sorted({k for _, _, s in per_commit for k in s})
    changes: list[dict[str, Any]] = []
    notes: list[str] = []
    for scenario, fig in keys:
        ref: tuple[str, str, dict[str, Any]] | None = None
        prev: tuple[str, str, dict[str, Any]] | None = None
        for sut, folder, samples in per_commit:
            values = samples.get((scenario, fig))
            if not values:
                continue
            ci = median_ci(values)
            if ci["lo"] is None:
                notes.append(f"{sut} {scenario} {fig}: one trial, no interval")
                continue
            if ref is None or prev is None:
                ref = prev = (sut, folder, ci)
                continue
            rci = ref[2]
            if ci["lo"] > rci["hi"] or ci["hi"] < rci["lo"]:
                up = ci["median"] > rci["median"]
                rel = (ci["median"] - rci["median"]) / abs(rci["median"]) if rci["median"] else None
                changes.append({
                    "scenario": scenario, "figure": fig,
                    "was": prev[0], "was_href": f"{prev[1]}/assessment.html",
                    "now": sut, "now_href": f"{folder}/assessment.html",
                    "level": ref[0], "was_interval": _fmt(rci), "now_interval": _fmt(ci),
                    "relative_change": "—" if rel is None else f"{rel:+.1%}",
                    "status": "improved" if up == TRACKED[fig] else "regressed",
                })
                ref = (sut, folder, ci)
            prev = (sut, folder, ci)
    return changes, notes


def _fmt(ci: dict[str, Any]) -> str:
    return f"{ci['median']:.4g} [{ci['lo']:.4g}, {ci['hi']:.4g}] (n={ci['n']})"
