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

from stallscope.errors import StallscopeError
from stallscope.render import plots
from stallscope.render.inputs import RunData, load_run, read_claims
from stallscope.render.templating import render
from stallscope.render.viewmodel import FigureRef, build_view
from stallscope.schemas import write_text_atomic

FORMATS = ("html", "pdf")


def _parse_formats(formats: str) -> set[str]:
    chosen = {f.strip() for f in formats.split(",") if f.strip()}
    unknown = chosen - set(FORMATS)
    if unknown or not chosen:
        raise StallscopeError(None, None, f"--formats: expected a comma-separated subset of html,pdf; got {formats!r}")
    return chosen


def write_figures(claims: dict[str, Any], runs: list[RunData], fig_dir: Path) -> tuple[list[FigureRef], list[dict]]:
    """Draw every figure into ``fig_dir``; return the all-runs figures and, per run, its figures or missing reason."""
    fig_dir.mkdir(parents=True, exist_ok=True)
    written: set[str] = set()

    def ref(name: str, caption: str, has_data: bool, run_id: str | None = None) -> FigureRef:
        written.add(name)
        return FigureRef(src=f"figures/{name}", caption=caption + ("" if has_data else " (no data)"), run_id=run_id)

    usable = [r for r in runs if r.metrics is not None]
    left_out = [r.run_id for r in runs if r.metrics is None]
    note = f" Runs left out for missing evidence: {', '.join(left_out)}." if left_out else ""
    overview = [
        ref("stall_durations.svg",
            "Stall duration by kind over all runs (log scale), one colour per run, from events.csv." + note,
            plots.plot_durations(usable, fig_dir / "stall_durations.svg")),
        ref("throughput.svg",
            "Throughput per run: delivered (broker side) and producer-side MB/s, from metrics.json." + note,
            plots.plot_throughput(
                [(r.run_id, (r.metrics["throughput"] or {}).get("delivered_mb_s"),
                  (r.metrics["throughput"] or {}).get("publish_bw_mb_s")) for r in usable if r.metrics],
                fig_dir / "throughput.svg")),
    ]
    per_run: list[dict] = []
    for run in runs:
        if run.metrics is None:
            per_run.append({"run_id": run.run_id, "missing": run.metrics_missing or "metrics.json", "figures": []})
            continue
        timeline = f"timeline_{run.slug}.svg"
        acks = f"acks_{run.slug}.svg"
        figures = [
            ref(timeline, f"Stalls of run {run.run_id} per broker over time: one marker per stall where its recv "
                "began, sized by duration and coloured by kind; dashed lines mark phase starts.",
                plots.plot_timeline(run, fig_dir / timeline), run.run_id),
            ref(acks, f"ACKs received per broker over time in run {run.run_id}, from the client's ACK progress.",
                plots.plot_acks(run, fig_dir / acks), run.run_id),
        ]
        per_run.append({"run_id": run.run_id, "missing": run.events_missing or "", "figures": figures})
    for stale in fig_dir.glob("*.svg"):
        if stale.name not in written:
            stale.unlink()
    return overview, per_run


def _copy(src: Path, dst: Path) -> Path:
    write_text_atomic(dst, src.read_bytes())
    return dst


def write_pdf(html: str, out_dir: Path, attachments: list[tuple[Path, str]]) -> Path:
    """Render ``html`` to ``out_dir/assessment.pdf`` with WeasyPrint, embedding ``(file, name)`` attachments."""
    import weasyprint  # slow to import; only when a PDF is asked for

    atts = [weasyprint.Attachment(filename=str(p), name=name, description=name) for p, name in attachments]
    pdf = weasyprint.HTML(string=html, base_url=str(out_dir)).write_pdf(attachments=atts)
    return write_text_atomic(out_dir / "assessment.pdf", pdf)


def render_report(claims: Path, out_dir: Path, formats: str = "html,pdf") -> Path:
    """Render the assessment from ``claims`` into ``out_dir``; return the PDF path (the HTML path if no PDF).

    Reads claims.json (validated; a bad file is a StallscopeError naming it) and, for each run in claims.runs,
    ``<dir>/metrics.json``, ``events.csv`` and ``manifest.json`` (missing or invalid: "evidence missing").
    Writes assessment.html, assessment.pdf, figures/*.svg, claims.json, metrics/*.json and manifests/*.json.
    """
    chosen = _parse_formats(formats)
    claims, out_dir = Path(claims), Path(out_dir)
    data = read_claims(claims)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = [load_run(r, claims.parent) for r in data["runs"]]
    overview, per_run = write_figures(data, runs, out_dir / "figures")

    claims_copy = out_dir / "claims.json"
    if claims.resolve() != claims_copy.resolve():
        _copy(claims, claims_copy)
    attachments: list[tuple[Path, str]] = [(claims_copy, "claims.json")]
    for run in runs:
        if run.metrics is not None:
            _copy(run.dir / "metrics.json", out_dir / "metrics" / f"{run.slug}.json")
        if run.manifest_path is not None:
            dst = _copy(run.manifest_path, out_dir / "manifests" / f"{run.slug}.json")
            attachments.append((dst, f"manifest_{run.slug}.json"))

    html = render("assessment.html.j2", build_view(data, overview, per_run))
    html_path = write_text_atomic(out_dir / "assessment.html", html)
    if "pdf" not in chosen:
        return html_path
    pdf_path = write_pdf(html, out_dir, attachments)
    if "html" not in chosen:
        html_path.unlink()
    return pdf_path
