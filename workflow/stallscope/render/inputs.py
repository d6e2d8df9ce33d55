"""Read what the report renders: claims.json (validated) and, per run listed there, its run directory through the
one reader every stage uses (``shared.rundir``: manifest and metrics validated, events.csv read when a figure
needs it).

Missing or invalid run files never raise: the run keeps each file's reason, which the report prints as
"evidence missing: <reason>". Only a claims.json that cannot be validated stops the report.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.shared.rundir import RunDir, read_run_dir


def read_claims(path: Path) -> dict[str, Any]:
    """Read claims.json through the claims schema; any failure is a StallscopeError naming the file."""
    return schemas.read_json(path, "claims")


def load_run(run: dict[str, Any], base: Path) -> RunDir:
    """Read one run listed in claims.runs; ``dir`` is taken as given, relative paths against ``base`` too.

    The run keeps the id claims.json gives it (its figures, files and links are named after it), whatever its
    directory now holds."""
    run_dir = Path(run["dir"])
    if not run_dir.is_absolute() and not run_dir.exists() and (base / run_dir).exists():
        run_dir = base / run_dir
    return dataclasses.replace(read_run_dir(run_dir), run_id=run["run_id"])

