"""The report stage: claims.json (+ each run's metrics.json, events.csv, manifest.json) -> HTML, PDF, SVG figures.

Output directory layout (``reports/<sut>/``)::

    assessment.html  assessment.pdf  claims.json  figures/*.svg
    metrics/<scenario>__t<n>.json  manifests/<scenario>__t<n>.json

Everything is written atomically (temporary file, then rename). The page footer's "generated" time is
claims.generated_utc, so the HTML and the figures depend only on the inputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.render import plots, plots_time
from stallscope.render import series as series_mod
from stallscope.render.calibration_view import calibration_view
from stallscope.render.inputs import load_run, read_claims
from stallscope.render.templating import render_template
from stallscope.render.trials_view import comparison_view
from stallscope.render.viewmodel import FigureRef, build_view
from stallscope.schemas import write_text_atomic
from stallscope.shared.rundir import MANIFEST_FILE, METRICS_FILE, RunDir
from stallscope.shared.summary import FILE_NAME as SUMMARY_FILE
from stallscope.shared.summary import build_summary

FORMATS = ("html", "pdf")


def _parse_formats(formats: str) -> set[str]:
    chosen = {f.strip() for f in formats.split(",") if f.strip()}
    unknown = chosen - set(FORMATS)
    if unknown or not chosen:
        raise StallscopeError(None, None, f"--formats: expected a comma-separated subset of html,pdf; got {formats!r}")
    return chosen


def _series_caption(run: RunDir, series: series_mod.RunSeries) -> str:
    rate = f"delivered MB/s from {series.rate_source}" if series.rate_source else "no delivered rate (no ACK " \
        "samples with a known message size)"
    faults = ", ".join(dict.fromkeys(w.label for w in series.faults))
    return (f"{run.run_id} over time ({series.bin_s:g} s bins): {rate}; acknowledged per broker; stalls and "
            "stalled seconds per broker and bin, counted where the recv began; dashed: phase starts; "
            + (f"shaded: fault windows ({faults})." if faults else "no fault window logged."))


def write_figures(runs: list[RunDir], fig_dir: Path) -> tuple[list[FigureRef], dict[str, Any]]:
    """Draw the figures that have data into ``fig_dir`` (stale SVGs removed); return them and the coverage.

    Coverage: ``missing`` (run id, reason) for runs without usable metrics or events, the run ids with stalls
    (``stalls``) and with the client's ACK progress lines (``acks``), out of ``usable`` runs; ``no_data`` names
    the all-runs figures left out for want of data, ``no_series`` the runs with nothing to draw over time.
    Every figure's cost is bounded by its bins, not by the number of events (histograms, per-bin heat maps,
    per-broker CCDFs).
    """
    fig_dir.mkdir(parents=True, exist_ok=True)
    usable = [r for r in runs if r.metrics is not None]
    left_out = [r.run_id for r in runs if r.metrics is None]
    note = f" Runs left out for missing evidence: {', '.join(left_out)}." if left_out else ""
    with_stalls = [r for r in usable if plots.stall_events(r)]
    with_acks = [r for r in usable if plots.ack_points(r)]
    latency = [(r.run_id, (r.metrics or {}).get("acks", {}).get("latency") or {}) for r in usable]
    candidates = [  # (file, caption, draw -> drew data?, key of the figure, or its name when it has no data)
        ("stall_durations.svg", "Stall durations by kind: how many stalls fell in each duration bin (log bins, "
         "log counts), one line per run with stalls, from events.csv." + note,
         lambda p: plots.plot_durations(with_stalls, p), "stalls"),
        ("throughput.svg", "Throughput per run: delivered (the publisher's Bandwidth line, publish start to the "
         "last ACK) and producer-side MB/s (MB = 2^20), from metrics.json."
         + note, lambda p: plots.plot_throughput(
             [(r.run_id, (r.metrics["throughput"] or {}).get("delivered_mb_s"),
               (r.metrics["throughput"] or {}).get("publish_bw_mb_s")) for r in usable if r.metrics], p), "throughput"),
        ("ack_latency.svg", "ACK latency CCDF per run and broker: the fraction of batches whose ACK came later "
         "than x after the batch's intended send time (refpub's log-linear histogram, 2 significant digits); "
         "batches never acknowledged are counted in the legend, not in the curve.",
         lambda p: plots_time.plot_latency_ccdf(latency, p), "ack latency"),
    ]
    no_series: list[str] = []
    for run in usable:
        series = series_mod.build_series(run, series_mod.find_client_csv(run.dir))
        if series is None or not series.has_data:
            no_series.append(run.run_id)
            continue
        candidates.append((f"series_{run.slug}.svg", _series_caption(run, series),
                           lambda p, s=series: plots_time.plot_run_series(s, p), f"series {run.run_id}"))
    figures: list[FigureRef] = []
    no_data: list[str] = []
    for name, caption, draw, key in candidates:
        if draw(fig_dir / name):
            figures.append(FigureRef(src=f"figures/{name}", caption=caption, key=key))
        elif key != "stalls" and not key.startswith("series "):  # runs without stalls get a sentence instead
            no_data.append(key)
    written = {Path(f.src).name for f in figures} | {"calibration.svg"}
    for stale in fig_dir.glob("*.svg"):
        if stale.name not in written:
            stale.unlink()
    missing = [{"run_id": r.run_id, "missing": r.metrics_missing or r.events_missing or ""}
               for r in runs if r.metrics_missing or r.events_missing]
    return figures, {"missing": missing, "usable": [r.run_id for r in usable], "no_data": no_data,
                     "stalls": [r.run_id for r in with_stalls], "acks": [r.run_id for r in with_acks],
                     "no_series": no_series}


def _copy(src: Path, dst: Path) -> Path:
    write_text_atomic(dst, src.read_bytes())
    return dst


def write_pdf(html: str, out_dir: Path, attachments: list[tuple[Path, str]]) -> Path:
    """Render ``html`` to ``out_dir/assessment.pdf`` with WeasyPrint, embedding ``(file, name)`` attachments."""
    import weasyprint  # slow to import; only when a PDF is asked for

    atts = [weasyprint.Attachment(filename=str(p), name=name, description=name) for p, name in attachments]
    pdf = weasyprint.HTML(string=html, base_url=str(out_dir)).write_pdf(attachments=atts)
    return write_text_atomic(out_dir / "assessment.pdf", pdf)


def _summary(claims_path: Path, claims: dict[str, Any], runs: list[RunDir]) -> dict[str, Any]:
    """The assessment's summary.json: the one ``assess`` wrote beside claims.json when it belongs to this
    claims.json (same generation time), else built here from the same claims and metrics."""
    beside = claims_path.parent / SUMMARY_FILE
    if beside.is_file():
        doc = schemas.read_json(beside, "summary")
        if doc["generated_utc"] == claims["generated_utc"] and doc["sut"]["id"] == claims["sut"]["id"]:
            return doc
    return build_summary(claims, {r.run_id: r.metrics for r in runs})


def render_report(claims: Path, out_dir: Path, formats: str = "html,pdf", comparison: Path | None = None,
                  calibration: Path | None = None) -> Path:
    """Render the assessment from ``claims`` into ``out_dir``; return the PDF path (the HTML path if no PDF).

    Reads claims.json (validated; a bad file is a StallscopeError naming it) and, for each run in claims.runs,
    its directory through ``shared.rundir``: ``metrics.json`` and ``events.csv`` (missing or invalid: "evidence
    missing: <reason>") and ``manifest.json`` (validated; missing or invalid: not copied).
    Writes assessment.html, assessment.pdf, figures/*.svg, claims.json, summary.json (the one beside claims.json,
    else built from it), metrics/*.json and manifests/*.json.
    ``comparison`` (``stallscope compare``'s JSON) adds the before/after section; ``calibration`` (a
    confusion.json, read when it exists) the calibration's matrix, or the note that none was run.
    """
    chosen = _parse_formats(formats)
    claims, out_dir = Path(claims), Path(out_dir)
    data = read_claims(claims)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = [load_run(r, claims.parent) for r in data["runs"]]
    figures, coverage = write_figures(runs, out_dir / "figures")

    claims_copy = out_dir / "claims.json"
    if claims.resolve() != claims_copy.resolve():
        _copy(claims, claims_copy)
    attachments: list[tuple[Path, str]] = [(claims_copy, "claims.json")]
    for run in runs:
        if run.metrics is not None:
            _copy(run.dir / METRICS_FILE, out_dir / "metrics" / f"{run.slug}.json")
        if run.manifest is not None:  # as validated: a manifest that breaks its schema is not attached
            dst = _copy(run.dir / MANIFEST_FILE, out_dir / "manifests" / f"{run.slug}.json")
            attachments.append((dst, f"manifest_{run.slug}.json"))

    summary = _summary(claims, data, runs)
    schemas.write_json(out_dir / SUMMARY_FILE, "summary", summary)
    attachments.append((out_dir / SUMMARY_FILE, SUMMARY_FILE))
    comp = comparison_view(schemas.read_json(comparison, "comparison") if comparison else None)
    view = build_view(data, figures, coverage, summary, comp)
    sut = data.get("sut")
    view["calibration"] = calibration_view(calibration, str(sut.get("id") if isinstance(sut, dict) else sut),
                                           [str(h) for h in data.get("hosts") or []],
                                           out_dir / "figures")
    html = render_template("assessment.html.j2", view)
    html_path = write_text_atomic(out_dir / "assessment.html", html)
    if "pdf" not in chosen:
        return html_path
    pdf_path = write_pdf(html, out_dir, attachments)
    if "html" not in chosen:
        html_path.unlink()
    return pdf_path
