"""Turn claims.json (plus the figures drawn) into the strings the template prints; the template computes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TITLE = "Recv Stall Diagnostics: Expert Panel Assessment"
VERDICTS = ("supported", "refuted", "inconclusive", "overclaim", "not_run", "harness_error")
PARAM_LABELS = (
    ("brokers", "brokers", ""), ("threads_per_broker", "threads/broker", ""), ("message_size", "msg", " B"),
    ("total_bytes", "total", ""), ("order", "order", ""), ("ack_level", "ack", ""),
    ("ack_timeout_s", "ack timeout", " s"), ("stall_threshold_ms", "stall threshold", " ms"),
)


@dataclass(frozen=True)
class FigureRef:
    """A figure written under figures/: its file name relative to the report and its caption text."""

    src: str
    caption: str
    run_id: str | None = None


def text(value: Any, empty: str = "—") -> str:
    """Render a value for a table cell: None as a dash, booleans as yes/no, floats with 3 significant digits."""
    if value is None or value == "":
        return empty
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def fmt_bytes(n: Any) -> str:
    """Format a byte count with a binary unit (10485760 -> '10 MiB')."""
    if not isinstance(n, int | float) or isinstance(n, bool):
        return text(n)
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if size == int(size) else f"{size:.1f} {unit}"
        size /= 1024
    return text(n)


def params_text(params: dict[str, Any], faults: dict[str, Any]) -> str:
    """Summarise the key scenario parameters and any fault knobs in one line."""
    parts = []
    for key, label, unit in PARAM_LABELS:
        value = params.get(key)
        if value is None:
            continue
        parts.append(f"{label}={fmt_bytes(value)}" if key == "total_bytes" else f"{label}={text(value)}{unit}")
    parts += [f"{k}={text(v)}" for k, v in sorted(faults.items())]
    return ", ".join(parts) or "unknown (ingested logs)"


def evidence_ref(ev: dict[str, Any]) -> str:
    """Cite one evidence item: ``run_id file:line`` for a log line, else ``run_id metric = value``."""
    run = f"{ev['run_id']} " if ev.get("run_id") else ""
    if ev.get("file"):
        loc = ev["file"] if ev.get("line") is None else f"{ev['file']}:{ev['line']}"
        return f"{run}{loc}"
    if ev.get("metric"):
        return f"{run}{ev['metric']} = {text(ev.get('value'))}"
    return run.strip() or "—"


def _evidence(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    out = []
    for ev in items:
        metric = ""
        if ev.get("file") and ev.get("metric"):
            metric = f"{ev['metric']} = {text(ev.get('value'))}"
        out.append({"ref": evidence_ref(ev), "excerpt": ev.get("excerpt") or "", "metric": metric})
    return out


def _claim(c: dict[str, Any]) -> dict[str, Any]:
    total = c.get("evidence_count", len(c["evidence"]))
    more = f"{total - len(c['evidence'])} further items not listed" if total > len(c["evidence"]) else ""
    return {
        "id": c["id"], "title": c["title"], "statement": c["statement"], "verdict": c["verdict"],
        "css": f"verdict-{c['verdict']}", "reason": c["reason"], "evidence": _evidence(c["evidence"]),
        "evidence_more": more, "settle": c.get("settle") or "", "error": c.get("error") or "",
    }


def _run(r: dict[str, Any]) -> dict[str, str]:
    slurm = ""
    if r.get("slurm_job_id") or r.get("slurm_node"):
        slurm = f"job {text(r.get('slurm_job_id'))} on {text(r.get('slurm_node'))}"
    harness = "ok" if r["harness_ok"] else "failed: " + "; ".join(r.get("harness_errors") or ["(no detail)"])
    return {
        "run_id": r["run_id"], "scenario": r["scenario"], "params": params_text(r.get("params") or {},
                                                                             r.get("faults") or {}),
        "sut_id": text(r.get("sut_id")), "stallscope_commit": text(r.get("stallscope_commit")),
        "host": text(r.get("host")), "slurm": slurm or "—", "started": text(r.get("started_utc")),
        "harness": harness, "harness_css": "ok" if r["harness_ok"] else "bad", "origin": text(r.get("origin")),
    }


def _diagnosis(d: dict[str, Any]) -> dict[str, Any]:
    expected = d.get("expected_cause")
    if expected is None:
        match = "no expected cause recorded"
    else:
        match = {True: "matches", False: "does not match", None: "cannot tell"}[d.get("matches_expected")]
    return {
        "run_id": d["run_id"], "scenario": d["scenario"], "bottleneck": d["bottleneck"],
        "confidence": d["confidence"], "expected": text(expected), "match": match, "summary": d["summary"],
        "evidence_for": _evidence(d.get("evidence_for") or []),
        "evidence_against": [{"cause": a["cause"], "reason": a["reason"]} for a in d.get("evidence_against") or []],
    }


def _appendix(claims: dict[str, Any]) -> list[dict[str, str]]:
    seen: dict[tuple[str, str, int], str] = {}
    items = [e for c in claims["claims"] for e in c["evidence"]]
    items += [e for d in claims.get("diagnosis") or [] for e in d.get("evidence_for") or []]
    for ev in items:
        if not ev.get("file"):
            continue
        key = (ev.get("run_id") or "", ev["file"], ev.get("line") if ev.get("line") is not None else 0)
        if key not in seen or not seen[key]:
            seen[key] = ev.get("excerpt") or ""
    return [{"ref": evidence_ref({"run_id": k[0], "file": k[1], "line": k[2] or None}), "excerpt": v}
            for k, v in sorted(seen.items())]


def _stamp_commit(st: dict[str, Any]) -> str:
    commit = st.get("commit")
    label = commit[:12] if commit else st["version"]
    return label + ("-dirty" if st.get("is_dirty") else "")


def _provenance(claims: dict[str, Any]) -> list[dict[str, str]]:
    sut, st = claims["sut"], claims["stallscope"]
    rows = [
        ("SUT id", sut["id"]), ("SUT commit", text(sut.get("commit"))), ("commit date", text(sut.get("commit_date"))),
        ("commit subject", text(sut.get("commit_subject"))), ("uncommitted changes", text(sut.get("is_dirty"))),
        ("SUT source", text(sut.get("source"))),
        ("stallscope", f"{st['version']} (commit {text(st.get('commit'))}, dirty: {text(st.get('is_dirty'))})"),
        ("hosts", ", ".join(claims.get("hosts") or []) or "—"),
        ("runs", ", ".join(r["run_id"] for r in claims["runs"]) or "—"),
        ("claims generated", claims["generated_utc"]),
    ]
    if claims.get("is_mixed"):
        rows.append(("mixed runs", claims.get("mixed_note") or "runs of several SUT ids or hosts were combined"))
    return [{"label": k, "value": v} for k, v in rows]


def build_view(claims: dict[str, Any], overview: list[FigureRef], per_run: list[dict[str, Any]]) -> dict[str, Any]:
    """Prepare every string of the assessment page.

    ``overview`` are the all-runs figures; ``per_run`` items are ``{"run_id", "missing": str, "figures": [FigureRef]}``.
    Returns the template context: title, footer, summary, runs, experts (with claims), summary_rows, diagnosis,
    next_steps, figure groups (numbered captions), appendix and provenance.
    """
    counter = iter(range(1, 10_000))

    def figs(refs: list[FigureRef]) -> list[dict[str, str]]:
        return [{"src": f.src, "caption": f"Figure {next(counter)}: {f.caption}", "alt": f.caption} for f in refs]

    overview_vm = figs(overview)
    per_run_vm = [{"run_id": g["run_id"], "missing": g["missing"], "figures": figs(g["figures"])} for g in per_run]
    counts = claims.get("verdict_counts") or {}
    by_expert: dict[int, list[dict[str, Any]]] = {}
    for c in claims["claims"]:
        by_expert.setdefault(int(c["expert"]), []).append(_claim(c))
    experts = [{"number": str(e["number"]), "name": e["name"], "question": e["question"], "section": str(i + 3),
                "claims": by_expert.get(int(e["number"]), [])}
               for i, e in enumerate(sorted(claims["experts"], key=lambda e: e["number"]))]
    after = len(experts) + 3
    num = {k: str(after + i) for i, k in enumerate(("table", "diagnosis", "next", "appendix", "provenance"))}
    sut_id = claims["sut"]["id"]
    stamp = f"SUT {sut_id} · stallscope {_stamp_commit(claims['stallscope'])} · generated {claims['generated_utc']}"
    return {
        "title": TITLE, "sut_id": sut_id, "footer": stamp, "summary": claims["summary"],
        "verdict_counts": [{"verdict": v, "count": str(counts.get(v, 0)), "css": f"verdict-{v}"} for v in VERDICTS],
        "mixed_note": (claims.get("mixed_note") or "runs of several SUT ids or hosts were combined")
        if claims.get("is_mixed") else "",
        "runs": [_run(r) for r in claims["runs"]],
        "experts": experts,
        "summary_rows": [{"title": c["title"], "verdict": c["verdict"], "css": f"verdict-{c['verdict']}",
                          "note": c["reason"]} for c in claims["claims"]],
        "diagnosis": [_diagnosis(d) for d in claims.get("diagnosis") or []],
        "next_steps": list(claims.get("next_steps") or []),
        "overview_figures": overview_vm, "run_figures": per_run_vm,
        "appendix": _appendix(claims), "provenance": _provenance(claims), "num": num,
    }
