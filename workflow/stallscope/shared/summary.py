"""``summary.json`` (``summary/1``): the assessment's answer as data a program can read (a CI gate, a notebook).

claims.json holds every claim with its evidence and every run; the per-scenario statistics a reader wants first
(trial counts, outcome and bound counts, each key figure's median, interval and per-trial values) existed only as
rendered text. This module builds them once, from the claims document and each run's metrics.json, so the report's
first page, ``stallscope compare``, the archive index and a CI gate all read the same numbers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.shared import trialstats
from stallscope.shared.vocabulary import UNKNOWN

SCHEMA = "summary/1"
FILE_NAME = "summary.json"


def _label(value: Any) -> str:
    return str(value) if value not in (None, "") else UNKNOWN


def _counts(labels: list[str]) -> dict[str, int]:
    return dict(Counter(labels).most_common())


def _scenario(name: str, sut: str, runs: list[dict[str, Any]], diagnosis: Mapping[str, dict[str, Any]],
              metrics: Mapping[str, Mapping[str, Any] | None]) -> dict[str, Any]:
    doc = trialstats.summarise(name, sut, [(r["run_id"], metrics.get(r["run_id"]) or {}) for r in runs])
    outcomes, bounds, diags = [], [], []
    for r, t in zip(runs, doc["per_trial"], strict=True):
        d = diagnosis.get(r["run_id"]) or {}
        t["outcome"] = _label(r.get("outcome"))
        t["bound"] = _label((r.get("bound") or {}).get("cause"))
        t["diagnosis"] = _label(d.get("bottleneck"))
        outcomes.append(t["outcome"])
        bounds.append(t["bound"])
        diags.append(t["diagnosis"])
    agree = {"outcome": len(set(outcomes)) <= 1, "diagnosis": len(set(diags)) <= 1, "bound": len(set(bounds)) <= 1}
    expected = {str(r.get("expected_cause")) for r in runs if r.get("expected_cause")}
    return doc | {
        "expected_cause": expected.pop() if len(expected) == 1 else None,
        "outcomes": _counts(outcomes), "bounds": _counts(bounds), "diagnoses": _counts(diags),
        "agreement": agree, "flaky": not all(agree.values()),
    }


def _judged_on(claim: Mapping[str, Any], scenario_of: Mapping[str, str]) -> list[str]:
    return list(dict.fromkeys(scenario_of.get(rid, rid.split("/", 1)[0]) for rid in claim.get("runs") or []))


def build_summary(claims: Mapping[str, Any], metrics: Mapping[str, Mapping[str, Any] | None]) -> dict[str, Any]:
    """The ``summary/1`` document of one assessment: ``claims`` is the claims.json document, ``metrics`` each
    run's metrics.json by run id (None or absent: the run's figures are unknown, its outcome still counts)."""
    by_scen: dict[str, list[dict[str, Any]]] = {}
    for r in claims.get("runs") or []:
        by_scen.setdefault(r["scenario"], []).append(r)
    diagnosis = {d["run_id"]: d for d in claims.get("diagnosis") or []}
    sut = claims["sut"]
    scenario_of = {r["run_id"]: r["scenario"] for r in claims.get("runs") or []}
    verdicts = [{"id": c["id"], "title": c["title"], "verdict": c["verdict"], "flaky": bool(c.get("flaky")),
                 "judged_on": _judged_on(c, scenario_of), "runs": len(c.get("runs") or [])}
                for c in claims["claims"]]
    return {
        "schema": SCHEMA, "sut": {"id": sut["id"], "commit": sut.get("commit"), "is_dirty": sut.get("is_dirty")},
        "stallscope": {"version": claims["stallscope"]["version"], "commit": claims["stallscope"].get("commit")},
        "generated_utc": claims["generated_utc"], "level": trialstats.LEVEL, "hosts": list(claims.get("hosts") or []),
        "scenarios": {n: _scenario(n, sut["id"], rs, diagnosis, metrics) for n, rs in sorted(by_scen.items())},
        "verdicts": verdicts, "verdict_counts": dict(claims.get("verdict_counts") or {}),
    }


def write_summary(path: Path, claims: Mapping[str, Any], metrics: Mapping[str, Mapping[str, Any] | None]) -> Path:
    """Build and write ``summary.json`` (validated against ``summary.schema.json``)."""
    return schemas.write_json(path, "summary", build_summary(claims, metrics))
