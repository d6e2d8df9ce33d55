"""The real Embarcadero client's result file, ``throughput_benchmark_summary.csv``, read beside its log.

``throughput_test`` writes one row per test into its working directory (the run directory): sizes, order, ACK
level and the goodputs it computed (``*_goodput_mbps``, MB = 2^20 per second, as its log's MB/s). The log says the
same; the file is a second witness, and the only one a run keeps when its log was cut short.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

NAME = "throughput_benchmark_summary.csv"
_INTS = ("message_size_bytes", "total_message_size_bytes", "message_count", "num_threads_per_broker", "ack_level",
         "order", "replication_factor")


def _number(v: str | None) -> float | None:
    try:
        x = float(v) if v not in (None, "") else None
    except ValueError:
        return None
    return x if x is None or math.isfinite(x) else None  # NaN and infinity are no figures


def read_summary(run_dir: Path) -> dict[str, Any] | None:
    """The file's last row as figures (None when the run has no such file); bad cells read as null."""
    path = Path(run_dir) / NAME
    if not path.is_file():
        return None
    try:
        with path.open(encoding="utf-8", errors="replace", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, csv.Error) as exc:
        return {"file": NAME, "rows": 0, "error": str(exc)[:200]}
    if not rows:
        return {"file": NAME, "rows": 0, "error": "no data row"}
    last = rows[-1]
    out: dict[str, Any] = {"file": NAME, "rows": len(rows), "error": None}
    for k in _INTS:
        x = _number(last.get(k))
        out[k] = int(x) if x is not None and x.is_integer() else None
    out["publish_goodput_mb_s"] = _number(last.get("publish_goodput_mbps"))
    out["e2e_goodput_mb_s"] = _number(last.get("e2e_goodput_mbps"))
    return out
