"""The report's layout: every table fits the A4 page, the run table is compact, figures without data are left out."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stallscope.render.report import render_report

from .conftest import make_claims

LONG_HOST = "gpu-node-0042.partition-long.cluster.example.org"


def _boxes(box: Any) -> Iterator[Any]:
    yield box
    for child in getattr(box, "children", None) or []:
        yield from _boxes(child)


def overflowing_tables(html: Path) -> list[str]:
    """Tables (or table cells' text) that reach past the page's content box, laid out by WeasyPrint."""
    import weasyprint
    from weasyprint.formatting_structure import boxes

    doc = weasyprint.HTML(filename=str(html), base_url=str(html.parent)).render()
    bad = []
    for page in doc.pages:
        root = page._page_box
        right = root.content_box_x() + root.width + 0.5
        for box in _boxes(root):
            if isinstance(box, boxes.TableBox) and box.position_x + box.margin_width() > right:
                bad.append(f"table {box.element_tag} {box.margin_width():.0f}px wide")
            if isinstance(box, boxes.TableCellBox):
                edge = box.content_box_x() + box.width + box.padding_right + 0.5
                bad += [f"cell text {t.text!r}" for t in _boxes(box)
                        if isinstance(t, boxes.TextBox) and t.position_x + t.width > edge]
    return bad


@pytest.fixture(scope="module")
def long_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report whose run table has long hosts, SLURM nodes, harness errors, 40-digit commits and many faults."""
    tmp = tmp_path_factory.mktemp("layout")
    claims_path = make_claims(tmp / "in")
    claims = json.loads(claims_path.read_text())
    for run in claims["runs"]:
        run.update(host=LONG_HOST, slurm_job_id="123456789", slurm_node=LONG_HOST, harness_ok=False,
                   harness_errors=["broker_3 exited with code 137 after the SIGKILL at the 600 s timeout"],
                   sut_id="0123456789ab" + "c" * 28, stallscope_commit="fedcba987654" + "0" * 28,
                   faults={f"fault_knob_{i}": 10**i for i in range(6)})
        run["params"].update(threads_per_broker=4, message_count=10485760, total_bytes=10 * 2**30,
                             ack_timeout_s=120, stall_threshold_ms=50)
    claims_path.write_text(json.dumps(claims))
    return render_report(claims_path, tmp / "out", formats="html")


def test_layout_every_table_fits_the_page(long_report: Path) -> None:
    assert overflowing_tables(long_report) == []


def test_layout_run_table_short_commits_compact_params(long_report: Path) -> None:
    html = long_report.read_text()
    table = html[html.index('<table class="runs">'):html.index("</table>", html.index('<table class="runs">'))]
    assert "table-layout: fixed" in html
    assert "<code>0123456789ab</code>" in table and "<code>fedcba987654</code>" in table
    assert "c" * 28 not in table and "0" * 28 not in table
    provenance = html[html.index('id="provenance"'):]
    assert "0123456789ab" + "0" * 28 in provenance  # the SUT's full commit stays in the provenance section
    assert "2×4 conn, 1 KiB × 10,485,760 (10 GiB), ORDER\u00a00, ACK\u00a01, timeout\u00a0120\u00a0s" in table
    assert '<br><span class="faults">faults: fault_knob_0=1,' in table
    assert f"job 123456789 on {LONG_HOST}" in table


def test_layout_run_without_stalls_or_acks_gets_a_sentence_not_a_panel(tmp_path: Path) -> None:
    claims = make_claims(tmp_path / "in")
    run_dir = tmp_path / "in" / "runs" / "slow_producer" / "t1"
    with (run_dir / "events.csv").open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["kind"] == "phase"]
    with (run_dir / "events.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    metrics["acks"]["progress"] = []
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    html = render_report(claims, tmp_path / "out", formats="html").read_text()
    assert ("No stalls were logged in slow_producer/t1, so their stall rows over time are empty and they have no "
            "line in the stall duration figure.") in html
    assert "slow_producer/t1 completed successfully before the client&#39;s first once-a-second progress" in html
    svg = (tmp_path / "out" / "figures" / "stall_durations.svg").read_text()
    assert "<!-- baseline/t1 -->" in svg and "slow_producer/t1" not in svg
    assert not (tmp_path / "out" / "figures" / "series_slow_producer__t1.svg").exists()
    assert ("No figure over time for slow_producer/t1: no stall, ACK sample or fault window was logged.") in html
    assert "(no data)" not in html and "no data" not in html
