"""The archive index: ``reports/index.html`` rebuilt from ``reports/*/claims.json`` (and the ``summary.json``
beside each, for the per-trial figures) alone (no git).

Like asv's publish, the page is rebuilt in full on every call, and a folder whose claims.json is broken is
skipped with a warning on the page rather than stopping the index.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.render.inputs import read_claims
from stallscope.render.steps import detect_steps
from stallscope.render.templating import render_template
from stallscope.render.viewmodel import VERDICTS, text
from stallscope.schemas import write_text_atomic
from stallscope.shared.figures import KEY_FIGURES


def _date_key(claims: dict[str, Any]) -> tuple[int, float, str]:
    """Sort key: commits with a parseable date first, oldest first; then by SUT id."""
    raw = claims["sut"].get("commit_date")
    try:
        stamp = datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp() if raw else None
    except ValueError:
        stamp = None
    return (0, stamp, claims["sut"]["id"]) if stamp is not None else (1, 0.0, claims["sut"]["id"])


def _exact(value: Any) -> str:
    """Print a key figure in full (no rounding), so a listed change is visible."""
    return "—" if value is None else str(value)


def verdict_changes(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, str]]:
    """Claims whose verdict differs between two claims.json files (by claim id; added or removed claims too)."""
    before = {c["id"]: c for c in old["claims"]}
    after = {c["id"]: c for c in new["claims"]}
    out = []
    for cid in sorted(before.keys() | after.keys()):
        was = before[cid]["verdict"] if cid in before else "absent"
        now = after[cid]["verdict"] if cid in after else "absent"
        if was != now:
            title = (after.get(cid) or before[cid])["title"]
            out.append({"claim": f"{title} ({cid})", "was": was, "now": now, "css": f"verdict-{now}"})
    return out


def figure_changes(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, str]]:
    """Key figures that differ between two commits, matching runs by run_id (runs in only one side are listed)."""
    before = {r["run_id"]: r.get("key_figures") or {} for r in old["runs"]}
    after = {r["run_id"]: r.get("key_figures") or {} for r in new["runs"]}
    out = []
    for run_id in sorted(before.keys() | after.keys()):
        if run_id not in before or run_id not in after:
            out.append({"run_id": run_id, "figure": "run", "was": "present" if run_id in before else "absent",
                        "now": "present" if run_id in after else "absent"})
            continue
        for key in KEY_FIGURES:
            was, now = before[run_id].get(key), after[run_id].get(key)
            if was != now:
                out.append({"run_id": run_id, "figure": key, "was": _exact(was), "now": _exact(now)})
    return out


def _row(claims: dict[str, Any], folder: str) -> dict[str, Any]:
    counts = claims.get("verdict_counts") or {}
    sut = claims["sut"]
    return {
        "sut_id": sut["id"], "href": f"{folder}/assessment.html", "date": text(sut.get("commit_date")),
        "subject": text(sut.get("commit_subject")), "dirty": text(sut.get("is_dirty")),
        "scenarios": ", ".join(sorted({r["scenario"] for r in claims["runs"]})) or "—",
        "counts": [{"verdict": v, "count": str(counts[v]), "css": f"verdict-{v}"} for v in VERDICTS if counts.get(v)],
        "generated": claims["generated_utc"],
    }


def _summaries(reports: Path, loaded: list[tuple[dict[str, Any], str]], warnings: list[str]
               ) -> dict[str, dict[str, Any]]:
    """Each archive's summary.json when it belongs to its claims.json (same generation time)."""
    out = {}
    for claims, folder in loaded:
        path = reports / folder / "summary.json"
        if not path.is_file():
            continue
        try:
            doc = schemas.read_json(path, "summary")
        except StallscopeError as exc:
            warnings.append(f"{folder}: summary.json not used: {exc}")
            continue
        if doc["generated_utc"] == claims["generated_utc"]:
            out[folder] = doc
    return out


def build_index(reports: Path, out: Path | None = None) -> Path:
    """Rebuild ``<reports>/index.html`` (or ``out``) from every ``<reports>/<sut>/claims.json``; return its path.

    Lists each archived commit (SUT id, commit date and subject, scenarios, verdict counts, generation time)
    ordered by commit date, and for each pair of consecutive commits the claim verdicts and run key figures
    that changed. A claims.json that fails validation is skipped with a warning on the page.
    """
    reports = Path(reports)
    out = Path(out) if out is not None else reports / "index.html"
    if not reports.is_dir():
        raise StallscopeError(reports, None, "reports directory not found")
    try:
        schemas.load_schema(schemas.KINDS["claims"][0])
    except FileNotFoundError as exc:  # an environment problem, not one broken folder: stop
        raise StallscopeError(reports, None, f"cannot validate claims files: {exc.filename} is missing") from None
    loaded: list[tuple[dict[str, Any], str]] = []
    warnings: list[str] = []
    for path in sorted(reports.glob("*/claims.json")):
        try:
            loaded.append((read_claims(path), path.parent.name))
        except StallscopeError as exc:
            warnings.append(f"skipped {path.parent.name}: {exc}")
    loaded.sort(key=lambda item: _date_key(item[0]))
    changes = []
    for (old, _), (new, _) in zip(loaded, loaded[1:], strict=False):
        changes.append({
            "was": old["sut"]["id"], "now": new["sut"]["id"],
            "verdicts": verdict_changes(old, new), "figures": figure_changes(old, new),
        })
    steps, step_notes = detect_steps(loaded, _summaries(reports, loaded, warnings))
    context = {"rows": [_row(c, folder) for c, folder in loaded], "changes": changes, "warnings": warnings,
               "steps": steps, "step_notes": step_notes,
               "title": "stallscope: archived assessments"}
    return write_text_atomic(out, render_template("index.html.j2", context))
