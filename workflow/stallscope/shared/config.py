"""The config file (config/config.yaml, or another SUT's such as config/embarcadero.yaml): read and validated against
its schema before any value is read, by every stage that reads it.

Why here: the experiment stage runs what the config says and the panel judges runs against its scenario table; both
must read the same file the same way (schema defaults filled in, the same errors), and the panel may not import the
experiment stage. What only running a broker needs (an external SUT's command templates, the real Embarcadero's
limits) is checked on top of this by ``experiment.config``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.schemas import format_validation_error, load_schema

INT64 = (-(2**63), 2**63 - 1)


def read_config_yaml(path: str | Path) -> Any:
    """The config file's YAML as read, not yet validated; a missing file or bad YAML is a StallscopeError naming it."""
    p = Path(path)
    try:
        with p.open(encoding="utf-8") as fh:
            return schemas.load_yaml(fh)
    except FileNotFoundError:
        raise StallscopeError(p, None, "config file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise StallscopeError(p, mark.line + 1 if mark else None, f"not valid YAML: {exc}") from None


def check_config(data: Any, path: str | Path) -> dict[str, Any]:
    """Validate a config mapping against the schema, filling its defaults in place, and refuse numbers a run cannot
    use; else raise naming the file and the bad key."""
    if not isinstance(data, dict):
        raise StallscopeError(path, None, "config must be a mapping")
    schema = load_schema("config.schema.yaml")
    errors = sorted(schemas.FillingValidator(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise StallscopeError(path, None, format_validation_error(path, errors[0]))
    bad = _first_unbounded(data, "$")
    if bad is not None:
        raise StallscopeError(path, None, bad)
    return data


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a config file and validate it against the schema (defaults filled in)."""
    return check_config(read_config_yaml(path), Path(path))


def _first_unbounded(value: Any, loc: str) -> str | None:
    """The first number a run cannot use: NaN or infinite (YAML ``.nan``, ``.inf``) or an integer beyond int64.

    The schema's ``minimum`` lets these through (NaN compares false, infinity is above every minimum), and
    they would fail only when the run starts: a timeout of ``.inf`` never fires, 2^70 bytes overflow the
    publisher's counters."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"at {loc}: must be a finite number; got {value}"
    if isinstance(value, int) and not INT64[0] <= value <= INT64[1]:
        return f"at {loc}: beyond a 64-bit integer; got {value}"
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        found = _first_unbounded(v, f"{loc}[{k}]" if isinstance(k, int) else f"{loc}.{k}")
        if found is not None:
            return found
    return None
