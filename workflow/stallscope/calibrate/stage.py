"""`stallscope calibrate`: run seeded random draws, diagnose each, write the confusion matrix (confusion.json).

Each draw is run like any scenario (``run_scenario`` on a config of the draws, kept beside confusion.json as
``draws-<seed>.yaml``), parsed, measured, and judged by the diagnose stage's ``diagnose_run``, as in the
assessment, against the raw sink measured at the draw's own shape right after it (so ``none`` is decided as in a
report). The expected bound is the injected class; the expected cause is the class when the diagnosis names it
whether or not the run failed (ring pressure, a stuck ACK path, init and lifecycle, pauses inside batches), and
for a slow producer or slow reads only when the run's ACKs fell short (a run that completed has no failure).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from stallscope import schemas
from stallscope.analysis.metrics import compute_metrics
from stallscope.calibrate.confusion import matrix, mistakes
from stallscope.calibrate.draws import CAUSE_CLASSES, CLASSES, class_of, draw_scenarios
from stallscope.diagnose.signals import is_ack_short
from stallscope.diagnose.stage import diagnose_run
from stallscope.errors import StallscopeError
from stallscope.experiment.bench import SINK_SHAPE, _one, bench_scenario
from stallscope.experiment.config import load_config, resolve_scenario, validate_config
from stallscope.experiment.run import run_scenario
from stallscope.logs.parse import parse_run
from stallscope.shared.provenance import host_facts, utc_now
from stallscope.shared.rundir import read_run_dir
from stallscope.shared.trialtag import TrialTag
from stallscope.shared.vocabulary import NONE, PRODUCER_COST_NS, RECV_DELAY_US

#: Draws whose failure diagnosis needs a failure: with only these knobs, a run that completed expects ``none``.
OUTCOME_KNOBS = {PRODUCER_COST_NS, RECV_DELAY_US}
CAUSE_ROWS = (NONE, *CAUSE_CLASSES)


def _draws_config(cfg: dict[str, Any], seed: int, draws: int, path: Path) -> dict[str, Any]:
    data = {"sut": cfg["sut"], "run": cfg["run"], "defaults": dict(cfg["defaults"]) | {"trials": 1},
            "scenarios": draw_scenarios(seed, draws)}
    data = validate_config(data, path)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return data


def _sink(bin_dir: Path, params: dict[str, Any], work: Path) -> dict[str, Any] | None:
    """A bench.json look-alike holding the raw sink's goodput at this draw's shape (one publish)."""
    shape = {k: int(params[k]) for k in SINK_SHAPE}
    mb_s = _one(bin_dir, "rawsink", bench_scenario(shape["total_bytes"], shape), work)
    if mb_s is None:
        return None
    return {"scenario": shape, "median_mb_s": {"raw_sink": mb_s},
            "raw_sink_at": [{"shape": shape, "samples_mb_s": [mb_s], "median_mb_s": mb_s}]}


def _judge(run_dir: Path, name: str, scn: dict[str, Any], bench: dict[str, Any] | None) -> dict[str, Any]:
    run = read_run_dir(run_dir)
    diagnosed = diagnose_run(run, bench)  # as the assessment has it (outcome unknown: low confidence at most)
    diag, bound = diagnosed["diagnosis"], diagnosed["bound"]
    cls = class_of(name)
    failed = is_ack_short(run) if run.harness_ok else None
    cause = scn["expected_cause"]
    if set(scn.get("faults") or {}) <= OUTCOME_KNOBS and cls != NONE:
        cause = cls if failed else NONE
    return {"run": name, "run_dir": str(run_dir), "class": cls, "faults": dict(scn.get("faults") or {}),
            "params": {k: scn[k] for k in ("brokers", "threads_per_broker", "message_size", "total_bytes",
                                           "ack_timeout_s")},
            "harness_ok": run.harness_ok, "failed": failed, "sink_mb_s": (bench or {}).get("median_mb_s", {}).get(
                "raw_sink"), "share_of_sink": bound.get("shares", {}).get("share_of_sink"),
            "expected_bound": cls, "bound": bound["cause"], "bound_confidence": bound["confidence"],
            "bound_summary": bound["summary"], "expected_cause": cause, "cause": diag["bottleneck"],
            "cause_confidence": diag["confidence"], "cause_summary": diag["summary"]}


def calibrate(config_path: Path, build_json: Path, seed: int, draws: int, out: Path) -> Path:
    """Run ``draws`` draws of ``seed`` with the build of ``build_json``; write ``out`` (confusion.json)."""
    if draws < 1:
        raise StallscopeError(config_path, None, f"calibrate: --draws must be at least 1, got {draws}")
    cfg = load_config(config_path)
    if cfg["sut"]["kind"] != "reference":
        raise StallscopeError(config_path, None, "calibrate injects the reference broker's faults: sut.kind must be "
                              f"reference, not {cfg['sut']['kind']!r}")
    build = schemas.read_json(build_json, "build")
    bin_dir = Path(build["bin_dir"]).resolve()
    out = Path(out)
    work = out.parent / f"seed-{seed}"
    work.mkdir(parents=True, exist_ok=True)
    draws_path = work / "draws.yaml"
    data = _draws_config(cfg, seed, draws, draws_path)
    started = utc_now()
    records = []
    with tempfile.TemporaryDirectory(prefix="stallscope-calibrate-") as tmp:
        for i, (name, scn) in enumerate(data["scenarios"].items()):
            run_dir = work / name / str(TrialTag(1))
            run_scenario(draws_path, name, 1, build_json, run_dir)
            parse_run(run_dir)
            compute_metrics(run_dir)
            bench = _sink(bin_dir, resolve_scenario(data, name)["params"], Path(tmp) / name)
            rec = _judge(run_dir, name, scn, bench)
            rec["run_dir"] = str(run_dir.relative_to(out.parent))
            records.append(rec)
            print(f"calibrate {i + 1}/{draws} {name}: bound {rec['bound']} ({rec['bound_confidence']}), cause "
                  f"{rec['cause']} ({rec['cause_confidence']})", file=sys.stderr, flush=True)
    result = {
        "schema": "confusion/1", "sut": build["sut"]["id"], "machine": host_facts(), "seed": seed, "draws": draws,
        "started_utc": started, "finished_utc": utc_now(), "draws_config": str(draws_path.relative_to(out.parent)),
        "classes": list(CLASSES),
        "bound": matrix([(r["expected_bound"], r["bound"]) for r in records], CLASSES),
        "cause": matrix([(r["expected_cause"], r["cause"]) for r in records], CAUSE_ROWS),
        "high_confidence_mistakes": mistakes(records, "bound") + mistakes(records, "cause"),
        "runs": records,
    }
    return schemas.write_json(out, "confusion", result)
