"""Read a client's throughput time series (Embarcadero's ``throughput_timeseries_*.csv``) and summarise it.

The client samples every ~100 ms: ``Timestamp(ms)`` (since the client started), per broker ``Broker_<i>_sent_GiBps``
and ``Broker_<i>_ack_GiBps`` (GiB/s over the last interval), ``Sent_GiBps``, ``Ack_GiBps``, ``Total_GBps`` and the
cumulative ``Cum_Sent_Bytes`` / ``Cum_Ack_Bytes``. ``read_timeseries`` returns them under plain names, so a plot
(or anything else) need not know the CSV's spelling:

    t_ms, sent_gib_s, ack_gib_s, cum_sent_bytes, cum_ack_bytes, b<i>_sent_gib_s, b<i>_ack_gib_s

``summarise`` gives the figures ``metrics.json`` keeps per client (``clients[].timeseries``): the sample count and
interval, the active window (first sample with bytes sent to the first with every byte acknowledged, the window the
driver's overlap computation uses), the bytes sent and acknowledged, peak and mean rates, and per-broker peaks.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from stallscope.errors import StallscopeError

_BROKER_COL = re.compile(r"^Broker_(\d+)_(sent|ack)_GiBps$")
_NAMES = {"Timestamp(ms)": "t_ms", "Sent_GiBps": "sent_gib_s", "Ack_GiBps": "ack_gib_s",
          "Cum_Sent_Bytes": "cum_sent_bytes", "Cum_Ack_Bytes": "cum_ack_bytes"}
REQUIRED = tuple(_NAMES.values())


def read_timeseries(path: Path) -> pd.DataFrame:
    """The series with plain column names (module doc), sorted by time; StallscopeError when unreadable."""
    try:
        raw = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise StallscopeError(path, None, f"unreadable time series: {exc}") from None
    names = {}
    for col in raw.columns:
        col_s = str(col).strip()
        if col_s in _NAMES:
            names[col] = _NAMES[col_s]
        elif m := _BROKER_COL.match(col_s):
            names[col] = f"b{m.group(1)}_{m.group(2)}_gib_s"
    df = raw.rename(columns=names)[list(names.values())]
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise StallscopeError(path, 1, f"time series without column(s) {', '.join(missing)}")
    df = df.apply(pd.to_numeric, errors="coerce")
    bad = df[list(REQUIRED)].isna().any(axis=1)
    if bad.any():
        raise StallscopeError(path, int(bad.idxmax()) + 2, "a time-series row with a non-numeric value")
    return df.sort_values("t_ms").reset_index(drop=True)


def _r(x: float | None, nd: int = 6) -> float | None:
    return None if x is None or pd.isna(x) else round(float(x), nd)


def summarise(df: pd.DataFrame, file: str) -> dict[str, Any]:
    """Per-client figures of one series (module doc); rates in GiB/s as the client logged them."""
    t = df["t_ms"]
    steps = t.diff().dropna()
    sent_final = int(df["cum_sent_bytes"].iloc[-1]) if len(df) else None
    ack_final = int(df["cum_ack_bytes"].iloc[-1]) if len(df) else None
    first = df.loc[df["cum_sent_bytes"] > 0, "t_ms"]
    done = df.loc[(df["cum_ack_bytes"] >= (ack_final or 0)) & (df["cum_ack_bytes"] > 0), "t_ms"]
    start = int(first.iloc[0]) if not first.empty else None
    end = int(done.iloc[0]) if not done.empty else None
    window = end - start if start is not None and end is not None and end >= start else None
    sending = df.loc[df["sent_gib_s"] > 0, "sent_gib_s"]
    brokers: dict[str, Any] = {}
    for col in df.columns:
        if m := re.match(r"^b(\d+)_(sent|ack)_gib_s$", col):
            brokers.setdefault(m.group(1), {})[f"peak_{m.group(2)}_gib_s"] = _r(df[col].max())
    return {
        "file": file,
        "samples": int(len(df)),
        "interval_ms": _r(steps.median(), 3) if not steps.empty else None,
        "active_start_ms": start,
        "active_end_ms": end,
        "active_window_ms": window,
        "cum_sent_bytes": sent_final,
        "cum_ack_bytes": ack_final,
        "peak_sent_gib_s": _r(df["sent_gib_s"].max()) if len(df) else None,
        "peak_ack_gib_s": _r(df["ack_gib_s"].max()) if len(df) else None,
        "mean_sent_gib_s": _r(sending.mean()) if not sending.empty else None,
        "per_broker": dict(sorted(brokers.items(), key=lambda kv: int(kv[0]))),
    }


def client_series(run_dir: Path, csv_name: str) -> dict[str, Any] | None:
    """The summary of one client's series in ``run_dir``; None when the file is absent."""
    path = Path(run_dir) / csv_name
    if not path.is_file():
        return None
    return summarise(read_timeseries(path), csv_name)
