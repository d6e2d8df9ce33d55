"""stallscope: reproducible broker stall diagnostics, from scenario runs to an expert-panel assessment."""

from __future__ import annotations

__version__ = "0.1.0"
