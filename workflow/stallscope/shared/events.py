"""The ``events.csv`` table: its columns and its reader, for the parse stage that writes it and the metrics and
report stages that read it (``workflow/schemas/README.md`` describes each column)."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from stallscope.errors import StallscopeError

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ("file", "line", "ts_us", "severity", "tid", "src", "role", "broker", "kind", "duration_ms", "fields",
           "text")
#: integer columns; an empty cell is unknown (a line without a timestamp, a client event about no broker)
INT_COLUMNS = ("line", "ts_us", "tid", "broker", "duration_ms")


def header() -> bytes:
    """The header line of events.csv."""
    return (",".join(COLUMNS) + "\n").encode()


def read_frames(path: Path, columns: Sequence[str] = COLUMNS, chunk_rows: int | None = None) -> Iterator[pd.DataFrame]:
    """The rows of events.csv as DataFrames of strings (empty cells stay ``""``), ``columns`` only, all at once
    or ``chunk_rows`` at a time (memory then follows the rows the caller keeps, not the file).

    Raises ``FileNotFoundError`` for a missing file (callers word that themselves) and ``StallscopeError`` naming
    the file for a missing column or a file that is not CSV.
    """
    import pandas as pd  # only the readers need it; keeps `import stallscope.shared` light

    try:
        with path.open(encoding="utf-8", newline="") as fh:
            head = next(csv.reader([fh.readline()]), [])
        missing = [c for c in columns if c not in head]
        if missing:
            raise StallscopeError(path, 1, f"missing columns: {', '.join(missing)}")
        frames = pd.read_csv(path, usecols=list(columns), dtype=str, keep_default_na=False, encoding="utf-8",
                             chunksize=chunk_rows)
        yield from ([frames] if chunk_rows is None else frames)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise StallscopeError(path, None, f"unreadable events.csv: {exc}") from None
