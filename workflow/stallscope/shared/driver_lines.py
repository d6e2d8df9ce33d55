"""The table of a driver's own lines (``driver_lines.yaml``): trials, attempts, exit statuses, broken runs, kills.

Shared by run discovery (``logs.discover``, which tells a driver's log by them) and the outcome
(``analysis.endings``, which reads a run's exit statuses and killed brokers from them).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from stallscope import schemas

PATH = Path(__file__).with_name("driver_lines.yaml")


@functools.cache
def driver_line_rules() -> dict[str, re.Pattern[str]]:
    """The patterns by name: ``trial``, ``attempt``, ``exited``, ``broken``, ``killed_broker``."""
    data = schemas.load_yaml(PATH.read_text(encoding="utf-8"))
    return {k: re.compile(v) for k, v in data.items() if k != "schema"}
