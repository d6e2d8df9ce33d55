"""Turn claims.json (plus the figures drawn) into the strings the template prints; the template computes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stallscope.render import answer
from stallscope.render.runfacts import run_facts, sut_facts, unreadable_notes
from stallscope.shared.excerpt import cap_excerpt
from stallscope.shared.rundir import run_slug
from stallscope.shared.summary import build_summary
from stallscope.shared.trialtag import TrialTag
from stallscope.shared.vocabulary import VERDICTS_SHOWN

TITLE = "Recv Stall Diagnostics: Expert Panel Assessment"
VERDICTS = VERDICTS_SHOWN
MAX_EVIDENCE = 8  # evidence items listed per claim; the rest are counted (claims.json has them all)
HASH_LEN = 12  # commits in the run table; full hashes stay in the provenance section


@dataclass(frozen=True)
class FigureRef:
    """A figure written under figures/: its file name relative to the report and its caption text."""

    src: str
    caption: str
    key: str = ""  # "stalls": the sentence on the runs this figure leaves out is printed under it


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


def _num(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else text(value)


def params_text(params: dict[str, Any]) -> str:
    """The key scenario parameters on one line: ``4×4 conn, 1 KiB × 10,485,760 (10 GiB), ORDER 0, ACK 1, ...``."""
    parts = []
    brokers, threads = params.get("brokers"), params.get("threads_per_broker")
    if brokers is not None or threads is not None:
        parts.append(f"{text(brokers, '?')}×{text(threads, '?')} conn")
    size, count, total = params.get("message_size"), params.get("message_count"), params.get("total_bytes")
    if size is not None or count is not None:
        volume = f"{fmt_bytes(size) if size is not None else '?'} × {_num(count) if count is not None else '?'}"
        parts.append(volume + (f" ({fmt_bytes(total)})" if total is not None else ""))
    elif total is not None:
        parts.append(fmt_bytes(total))
    nb = "\u00a0"  # no break inside one parameter
    for key, label, unit in (("order", f"ORDER{nb}", ""), ("ack_level", f"ACK{nb}", ""),
                             ("ack_timeout_s", f"timeout{nb}", f"{nb}s"),
                             ("stall_threshold_ms", f"stall{nb}≥{nb}", f"{nb}ms")):
        if params.get(key) is not None:
            parts.append(f"{label}{text(params[key])}{unit}")
    return ", ".join(parts) or "unknown (ingested logs)"


def faults_text(faults: dict[str, Any]) -> str:
    """The fault knobs of a run (``faults: init_delay_sec=6, linger_sec=3``), or "" without faults."""
    return "faults: " + ", ".join(f"{k}={text(v)}" for k, v in sorted(faults.items())) if faults else ""


def short_commit(commit: Any) -> str:
    """A commit hash cut to 12 hex digits (other values, e.g. versions, as they are)."""
    value = text(commit)
    return value[:HASH_LEN] if len(value) == 40 and all(c in "0123456789abcdef" for c in value) else value


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
        if ev.get("file") and ev.get("metric"):  # a log line that backs a metric: name it, with its value if any
            metric = ev["metric"] if ev.get("value") is None else f"{ev['metric']} = {text(ev['value'])}"
        out.append({"ref": evidence_ref(ev), "excerpt": cap_excerpt(ev.get("excerpt")) or "", "metric": metric})
    return out


def _claim(c: dict[str, Any]) -> dict[str, Any]:
    items = sorted(c["evidence"], key=lambda ev: not ev.get("file"))  # log citations first, then metrics
    total = max(c.get("evidence_count", len(items)), len(items))
    shown = items[:MAX_EVIDENCE]
    more = total - len(shown)
    return {
        "id": c["id"], "title": c["title"], "statement": c["statement"], "verdict": c["verdict"],
        "css": f"verdict-{c['verdict']}", "reason": c["reason"], "evidence": _evidence(shown),
        "trials": ", ".join(f"{TrialTag(t['trial'])} {t['verdict']}" for t in c.get("trials") or []),
        "flaky": bool(c.get("flaky")),
        "evidence_more": f"{more:,} further item{'s' if more != 1 else ''} in claims.json" if more > 0 else "",
        "settle": c.get("settle") or "", "error": c.get("error") or "",
    }


def _address_span(addrs: list[str]) -> str:
    """"10.231.0.10–13" for consecutive addresses in one /24, else the list."""
    heads = {a.rsplit(".", 1)[0] for a in addrs}
    tails = [a.rsplit(".", 1)[-1] for a in addrs]
    if len(addrs) > 1 and len(heads) == 1 and all(x.isdigit() for x in tails) and \
            [int(x) for x in tails] == list(range(int(tails[0]), int(tails[0]) + len(tails))):
        return f"{addrs[0]}–{tails[-1]}"
    return ", ".join(addrs)


def _on_node(x: dict[str, Any]) -> str:
    """"broker_1 on n2 (10.200.0.12, 100 Mbit/s tbf)": a role of a multi-node run and its node's link."""
    who = "publisher" if x["name"] == "client" else x["name"]
    link = f", {x['rate_mbit']:g} Mbit/s {x['qdisc']}" if x.get("rate_mbit") is not None else ""
    return f"{who} on {text(x.get('node'))} ({x['address']}{link})"


def network_text(net: dict[str, Any] | None) -> str:
    """One line on where the roles ran and at what link rates (empty for a loopback run)."""
    if not net:
        return ""
    if net["status"] == "skipped":
        return f"emulated hosts: skipped ({text(net.get('reason'))})"
    if net["status"] == "loopback":
        return "network block set, namespaces off: loopback, links unshaped"
    if net["status"] == "cluster":
        return "SLURM nodes: " + "; ".join(_on_node(x) for x in net.get("links") or [])

    def rate(x: dict[str, Any]) -> str:
        return f"{x['rate_mbit']:g} Mbit/s {x['qdisc']}" if x.get("rate_mbit") is not None else "unshaped"

    links = net.get("links") or []
    brokers = [x for x in links if x["name"] != "client"]
    by_rate: dict[str, list[str]] = {}
    for x in brokers:
        by_rate.setdefault(rate(x), []).append(x["name"].replace("broker_", "b"))
    parts = []
    if brokers:
        where = _address_span([x["address"] for x in brokers])
        parts.append(f"brokers at {where}: " + ", ".join(f"{','.join(n)} {r}" for r, n in by_rate.items()))
    parts += [f"publisher at {x['address']}: {rate(x)}" for x in links if x["name"] == "client"]
    total = net.get("link_rate_sum_mbit")
    if total is not None:
        parts.append(f"broker links {total:g} Mbit/s in all")
    return "emulated hosts: " + "; ".join(parts)


def resources_text(res: dict[str, Any] | None) -> str:
    """``peak memory: broker_0 42 MB, ..., client 1,053 MB; shm 51 MB at the end; build 317 s (2 jobs)``."""
    if not isinstance(res, dict):
        return ""
    peaks = res.get("peak_rss_kb") or {}
    parts = []
    if peaks:
        parts.append("peak memory: " + ", ".join(f"{n} {kb / 1024:,.0f} MB" for n, kb in sorted(peaks.items())))
    if isinstance(res.get("shm_bytes_at_end"), int):
        parts.append(f"shm object {res['shm_bytes_at_end'] / 2**20:,.0f} MB at the end")
    if isinstance(res.get("build_wall_s"), (int, float)):
        jobs = f" ({res['build_jobs']} jobs)" if res.get("build_jobs") else ""
        parts.append(f"build {res['build_wall_s']:,.0f} s{jobs}")
    return "; ".join(parts)


def _run(r: dict[str, Any]) -> dict[str, str]:
    slurm = ""
    if r.get("slurm_job_id") or r.get("slurm_node"):
        slurm = f"job {text(r.get('slurm_job_id'))} on {text(r.get('slurm_node'))}"
    errors = r.get("harness_errors") or ["(no detail)"]
    skipped = not r["harness_ok"] and all(e.startswith("skipped: ") for e in errors)
    harness = "ok" if r["harness_ok"] else ("" if skipped else "failed: ") + "; ".join(errors)
    return {
        "run_id": r["run_id"], "scenario": r["scenario"], "params": params_text(r.get("params") or {}),
        "faults": faults_text(r.get("faults") or {}), "network": network_text(r.get("network")),
        "sut_id": short_commit(r.get("sut_id")), "stallscope_commit": short_commit(r.get("stallscope_commit")),
        "host": text(r.get("host")), "slurm": slurm or "—",
        "started": text(r.get("started_utc")).replace("T", " "),
        "harness": harness, "harness_css": "ok" if r["harness_ok"] else "bad", "origin": text(r.get("origin")),
        "resources": resources_text(r.get("resources")),
        **run_facts(r),
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
        "outcome": text(d.get("outcome")).replace("_", " "),
        "bound": text((d.get("bound") or {}).get("cause")).replace("_", " "),
        "bound_evidence": _evidence((d.get("bound") or {}).get("evidence") or []),
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
            seen[key] = cap_excerpt(ev.get("excerpt")) or ""
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
        ("patches applied before the build", "; ".join(f"{text(f['path'])} (sha256 {f['sha256']})"
                                                       for f in sut.get("patches") or []) or "none"),
        ("stallscope (this assessment)",
         f"{st['version']} (commit {text(st.get('commit'))}, dirty: {text(st.get('is_dirty'))})"),
        ("runs made by stallscope", ", ".join(sorted({short_commit(r.get("stallscope_commit"))
                                                      for r in claims["runs"]})) or "—"),
        ("hosts", ", ".join(claims.get("hosts") or []) or "—"),
        ("runs", ", ".join(r["run_id"] for r in claims["runs"]) or "—"),
        ("claims generated", claims["generated_utc"]),
    ]
    if claims.get("is_mixed"):
        rows.append(("mixed runs", claims.get("mixed_note") or "runs of several SUT ids or hosts were combined"))
    return [{"label": k, "value": v} for k, v in rows]


def _names(run_ids: list[str]) -> str:
    return ", ".join(run_ids)


def coverage_notes(runs: list[dict[str, Any]], coverage: dict[str, Any]) -> dict[str, str]:
    """One sentence each on the runs the figures leave out: ``stalls`` (runs without stalls), ``acks`` (without
    ACK progress lines) and ``no_data`` (all-runs figures not drawn)."""
    usable = list(coverage.get("usable") or [])
    stalls, acks = set(coverage.get("stalls") or []), set(coverage.get("acks") or [])
    ok = {r["run_id"] for r in runs if r.get("publish_ok")}
    notes: dict[str, str] = {}
    no_events = {m["run_id"] for m in coverage.get("missing") or []}
    no_stalls = [r for r in usable if r not in stalls and r not in no_events]
    if no_stalls:
        notes["stalls"] = (f"No stalls were logged in {_names(no_stalls)}, so "
                           + ("their stall rows over time are empty and they have no line in the stall duration "
                              "figure." if stalls else "there is no stall duration figure and the stall rows over "
                              "time are empty."))
    no_acks = [r for r in usable if r not in acks]
    if no_acks:
        done = [r for r in no_acks if r in ok]
        failed = [r for r in no_acks if r not in ok]
        why = []
        if done:
            why.append(f"{_names(done)} completed successfully before the client's first once-a-second progress "
                       "line")
        if failed:
            why.append(f"{_names(failed)} failed without logging one")
        notes["acks"] = ("Runs without the client's ACK progress lines (their acknowledged curves over time come "
                         "from refpub's ACK series or the broker's ACK counters, where logged): " + "; ".join(why)
                         + ".")
    if coverage.get("no_series"):
        notes["series"] = (f"No figure over time for {_names(coverage['no_series'])}: no stall, ACK sample or fault "
                           "window was logged.")
    if coverage.get("no_data"):
        notes["no_data"] = f"No figure of {' or '.join(coverage['no_data'])}: no run had such data."
    return notes


def files_not_understood(runs: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Every file of the input folders that no run used, with why, once each (runs of one folder share it)."""
    seen: dict[str, dict[str, str]] = {}
    for r in runs:
        for f in r.get("not_understood") or []:
            seen.setdefault(str(f["file"]), {"file": str(f["file"]), "why": str(f["why"])})
    return list(seen.values())


def _scenario_sections(claims: dict[str, Any], summary: dict[str, Any], runs: list[dict[str, str]],
                       diagnosis: list[dict[str, Any]], series: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """The appendix: per scenario its page-1 row, then each run with its parameters, diagnosis and figure."""
    diag = {d["run_id"]: d for d in diagnosis}
    rows = {r["scenario"]: r for r in answer.scenario_rows(summary)}
    out = []
    for name in summary["scenarios"]:
        mine = [r | {"anchor": answer.anchor("run", run_slug(r["run_id"])), "diagnosis": diag.get(r["run_id"]),
                     "figure": series.get(r["run_id"])} for r in runs if r["scenario"] == name]
        out.append({"name": name, "anchor": answer.anchor("scn", name), "row": rows[name], "runs": mine})
    return out


#: The page's sections in order: (id, title); the appendix starts at APPENDIX_FROM.
SECTIONS = (("answer", "Answer"), ("claims", "Claims and their evidence"), ("before-after", "Before/after"),
            ("figures", "Figures over all runs"), ("next-steps", "Next steps"), ("provenance", "Provenance"),
            ("scenarios", "Appendix A: scenarios and runs"), ("appendix", "Appendix B: every log line cited"),
            ("compare-figures", "Appendix C: before/after, every key figure"))
APPENDICES = frozenset({"scenarios", "appendix", "compare-figures"})


def build_view(claims: dict[str, Any], figures: list[FigureRef], coverage: dict[str, Any] | None = None,
               summary: dict[str, Any] | None = None, comparison: dict[str, Any] | None = None) -> dict[str, Any]:
    """Prepare every string of the assessment page.

    ``figures`` are the figures drawn (all have data), numbered in order; ``coverage`` is what
    ``report.write_figures`` says about the runs (keys ``missing``, ``usable``, ``stalls``, ``acks``, ``no_data``;
    all optional); ``summary`` is summary.json (built from claims alone when None); ``comparison`` the before/after
    view (``trials_view.comparison_view``). Returns the template context: page 1 (``facts``, ``scenario_rows``,
    ``verdict_rows``, ``sut_facts``, ``files_not_understood``), the body sections, and the appendix (``scenarios``: per
    scenario its runs, diagnoses and figures; ``appendix``: every cited line).
    """
    coverage = coverage or {}
    summary = summary or build_summary(claims, {})
    notes = coverage_notes(claims["runs"], coverage)
    figures_vm = [{"src": f.src, "caption": f"Figure {i}: {f.caption}", "alt": f.caption,
                   "css": "series" if f.key.startswith("series ") else "", "key": f.key,
                   "note": notes.pop(f.key, "") if f.key else ""} for i, f in enumerate(figures, start=1)]
    series = {f["key"].removeprefix("series "): f for f in figures_vm if f["key"].startswith("series ")}
    counts = claims.get("verdict_counts") or {}
    by_expert: dict[int, list[dict[str, Any]]] = {}
    for c in claims["claims"]:
        by_expert.setdefault(int(c["expert"]), []).append(_claim(c) | {"anchor": answer.anchor("claim", c["id"])})
    experts = [{"number": str(e["number"]), "name": e["name"], "question": e["question"],
                "claims": by_expert.get(int(e["number"]), [])}
               for e in sorted(claims["experts"], key=lambda e: e["number"])]
    shown = [(k, t) for k, t in SECTIONS if k not in ("before-after", "compare-figures") or comparison]
    num = {k: str(i) for i, (k, _) in enumerate([x for x in shown if x[0] not in APPENDICES], start=1)}
    sut_id = claims["sut"]["id"]
    stamp = f"SUT {sut_id} · stallscope {_stamp_commit(claims['stallscope'])} · generated {claims['generated_utc']}"
    runs = [_run(r) for r in claims["runs"]]
    diagnosis = [_diagnosis(d) for d in claims.get("diagnosis") or []]
    return {
        "title": TITLE, "sut_id": sut_id, "footer": stamp, "summary": claims["summary"],
        "facts": answer.facts(claims, summary, fmt_bytes),
        "sut_facts": sut_facts(claims["runs"]),  # what the SUT adapter measured (build time, peak memory)
        "scenario_rows": answer.scenario_rows(summary), "verdict_rows": answer.verdict_rows(claims, summary),
        "verdict_counts": [{"verdict": v, "count": str(counts.get(v, 0)), "css": f"verdict-{v}"} for v in VERDICTS],
        "mixed_note": (claims.get("mixed_note") or "runs of several SUT ids or hosts were combined")
        if claims.get("is_mixed") else "",
        "runs": runs,
        "unreadable_notes": unreadable_notes(claims["runs"]),
        "experts": experts,
        "diagnosis": diagnosis,
        "next_steps": list(claims.get("next_steps") or []),
        "figures": [f for f in figures_vm if not f["key"].startswith("series ")],
        "figure_notes": list(notes.values()),
        "input_findings": [{"run_id": r["run_id"], "findings": list(r["input_findings"])}
                           for r in claims["runs"] if r.get("input_findings")],
        "files_not_understood": files_not_understood(claims["runs"]),
        "missing_runs": [{"run_id": m["run_id"], "missing": m["missing"]} for m in coverage.get("missing") or []],
        "scenarios": _scenario_sections(claims, summary, runs, diagnosis, series),
        "appendix": _appendix(claims), "provenance": _provenance(claims), "num": num,
        "toc": [{"href": f"#{k}", "title": (f"{num[k]}. " if k in num else "") + t} for k, t in shown],
        "titles": dict(shown),
        "comparison": comparison,
        "sut_patches": [{"path": text(f["path"]), "sha256": f["sha256"]} for f in claims["sut"].get("patches") or []],
    }
