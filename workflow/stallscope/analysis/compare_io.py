"""Read the trials of one archived SUT (a claims.json or a directory of runs) and run ``stallscope compare``.

Kept apart from ``compare`` so the statistics there stay free of files: this module only finds the runs,
groups them by scenario and writes the validated comparison.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.shared import compare, trialstats


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StallscopeError(path, None, f"not readable JSON ({exc.__class__.__name__})") from None


def _from_claims(path: Path, claims: dict[str, Any]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Runs of a claims.json: their metrics.json where the run directory is still there, else the key figures."""
    runs = claims.get("runs")
    if not isinstance(runs, list):
        raise StallscopeError(path, None, "no 'runs' list: not a claims.json")
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for r in runs:
        if not isinstance(r, dict) or not isinstance(r.get("scenario"), str):
            continue
        metrics_path = Path(str(r.get("dir") or "")) / "metrics.json"
        if r.get("dir") and metrics_path.is_file():
            m = _load_json(metrics_path)
        else:
            kf = r.get("key_figures") or {}
            m = {"throughput": {"delivered_mb_s": kf.get("delivered_mb_s")},
                 "acks": {"completeness": kf.get("ack_completeness")},
                 "outcome": {"publish_ok": r.get("publish_ok")}}
        out.setdefault(r["scenario"], []).append((str(r.get("run_id")), m))
    return out


def _from_dir(path: Path) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for mp in sorted(path.rglob("metrics.json")):
        m = _load_json(mp)
        if isinstance(m, dict) and isinstance(m.get("scenario"), str):
            out.setdefault(m["scenario"], []).append((str(m.get("run_id") or mp.parent), m))
    if not out:
        raise StallscopeError(path, None, "no metrics.json of any run under this directory")
    return out


def _summary_file(path: Path) -> Path | None:
    """The summary.json that stands for ``path``: itself, or the one beside a claims.json or inside a report."""
    if path.is_file() and path.name == "summary.json":
        return path
    beside = (path.parent if path.is_file() else path) / "summary.json"
    return beside if beside.is_file() else None


def load_summaries(path: Path, sut: str | None = None) -> dict[str, dict[str, Any]]:
    """Scenario summaries of one archived SUT: ``path`` is a summary.json, a claims.json (its summary.json
    beside it is read when there) or a directory holding run directories (or a report with summary.json)."""
    summary = _summary_file(path)
    if summary is not None:
        doc = schemas.read_json(summary, "summary")
        return {name: s | ({"sut": sut} if sut else {}) for name, s in doc["scenarios"].items()}
    if path.is_dir():
        grouped = _from_dir(path)
        label = sut or path.name
    elif path.is_file():
        claims = _load_json(path)
        if not isinstance(claims, dict):
            raise StallscopeError(path, None, "not a claims.json")
        grouped = _from_claims(path, claims)
        label = sut or str((claims.get("sut") or {}).get("id") or path.parent.name)
    else:
        raise StallscopeError(path, None, "no such file or directory")
    summaries = {name: trialstats.summarise(name, label, runs) for name, runs in grouped.items()}
    for s in summaries.values():
        schemas.validate(s, schemas.load_schema("scenario_summary.schema.json"), path)
    return summaries


def build_comparison(baseline: Path, candidate: Path, alpha: float = compare.ALPHA,
                     settle_over: list[str] | None = None, min_change: float = compare.MIN_CHANGE) -> dict[str, Any]:
    """Compare two archived SUTs (see ``compare_paths``) without writing anything."""
    if settle_over is not None:
        settle_over = [s for s in settle_over if s]  # `--settle-over=` alone: no scenario settles it
    base = load_summaries(baseline)
    cand = load_summaries(candidate)
    result = compare.compare_summaries(base, cand, alpha, min_change)
    verdict, reason = compare.problem_fixed_overall(result, settle_over)
    if settle_over is not None:
        reason = f"{reason} (settled over {', '.join(settle_over) or 'no scenario'})"
    result["problem_fixed"] = {"verdict": verdict, "reason": reason}
    return result


def write_comparison(result: dict[str, Any], out: Path | None) -> None:
    """Validate and write ``result`` to ``out`` (print it when None)."""
    if out is None:
        schemas.validate(result, schemas.load_schema("comparison.schema.json"), "comparison")
        print(json.dumps(result, indent=1, ensure_ascii=False))
    else:
        schemas.write_json(out, "comparison", result)


def compare_paths(baseline: Path, candidate: Path, out: Path | None, alpha: float = compare.ALPHA,
                  settle_over: list[str] | None = None, min_change: float = compare.MIN_CHANGE) -> dict[str, Any]:
    """``stallscope compare``: compare two archived SUTs and write (or print) the comparison JSON.

    ``settle_over`` names the scenarios that settle the overall ``problem_fixed`` (the claim's own, in the DAG):
    a fault scenario that fails on both sides by design must not read as "the candidate still fails".
    Every scenario is still compared figure by figure. None: every scenario run on both settles it.
    """
    result = build_comparison(baseline, candidate, alpha, settle_over, min_change)
    write_comparison(result, out)
    return result
