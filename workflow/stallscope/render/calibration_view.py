"""What the report says about calibration: the latest one of this SUT and machine, or that none was run.

Why: a diagnosis is only as good as its accuracy on the machine it ran on; the reader gets the per-class recall
and precision with their intervals, the high-confidence mistakes, and the matrix figure (``plots_calibration``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.render.plots_calibration import plot_confusion


def _pct(rate: dict[str, Any]) -> str:
    if rate.get("value") is None:
        return "—"
    return f"{rate['value']:.0%} [{rate['lo']:.0%}, {rate['hi']:.0%}] ({rate['k']}/{rate['n']})"


def calibration_view(path: Path | None, sut: str, hosts: list[str], fig_dir: Path) -> dict[str, Any]:
    """The template's ``calibration`` block; draws ``figures/calibration.svg`` when there is one to show."""
    stale = fig_dir / "calibration.svg"
    none = {"ran": False, "note": "No calibration was run for this SUT and machine (`make calibrate`): nothing here "
            "says how often its diagnoses are right."}
    if path is None or not Path(path).is_file():
        stale.unlink(missing_ok=True)
        return none
    try:
        conf = schemas.read_json(Path(path), "confusion")
    except StallscopeError as exc:
        stale.unlink(missing_ok=True)
        return none | {"note": f"The calibration could not be read: {exc}"}
    host = conf["machine"].get("hostname")
    if conf["sut"] != sut or (hosts and host not in hosts):
        stale.unlink(missing_ok=True)
        return none | {"note": f"{none['note']} (the latest one, {conf['finished_utc']}, is of SUT {conf['sut']} on "
                       f"{host})"}
    fig_dir.mkdir(parents=True, exist_ok=True)
    plot_confusion(conf, stale)
    rows = [{"cls": c, "support": v["support"], "recall": _pct(v["recall"]), "precision": _pct(v["precision"])}
            for c, v in conf["bound"]["per_class"].items() if v["support"] or v["predicted"]]
    return {"ran": True, "seed": conf["seed"], "draws": conf["draws"], "date": conf["finished_utc"], "host": host,
            "figure": "figures/calibration.svg", "rows": rows, "mistakes": conf["high_confidence_mistakes"],
            "note": f"Calibration: {conf['draws']} random draws (seed {conf['seed']}) run on {host} on "
                    f"{conf['finished_utc']}, each judged like the runs above; recall and precision of the bound "
                    "per expected class with 95 % Wilson intervals."}
