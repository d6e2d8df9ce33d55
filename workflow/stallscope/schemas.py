"""The contracts between stages: every JSON file is read and written here, and validated both ways.

Only this module maps a file kind to its schema. A stage reads another stage's output through
``read_json`` and never through the other stage's code, so a stage can be rerun alone, anywhere.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import IO, Any

import jsonschema
import yaml

from stallscope.errors import StallscopeError
from stallscope.shared.vocabulary import NONE

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"

#: kind -> (schema file, current version, command that regenerates such a file)
KINDS: dict[str, tuple[str, int, str]] = {
    "manifest": ("manifest.schema.json", 1, "stallscope run / stallscope ingest"),
    "build": ("build.schema.json", 1, "stallscope build"),
    "lines": ("lines.schema.json", 1, "stallscope parse"),
    "metrics": ("metrics.schema.json", 1, "stallscope metrics"),
    "diagnoses": ("diagnoses.schema.json", 1, "stallscope diagnose"),
    "claims": ("claims.schema.json", 1, "stallscope assess"),
    "scenario_summary": ("scenario_summary.schema.json", 1, "stallscope compare"),
    "comparison": ("comparison.schema.json", 1, "stallscope compare"),
    "bench": ("bench.schema.json", 1, "stallscope bench"),
    "confusion": ("confusion.schema.json", 1, "stallscope calibrate"),
    "summary": ("summary.schema.json", 1, "stallscope assess"),
}


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, when PyYAML was built with it


def load_yaml(stream: Any) -> Any:
    """``yaml.safe_load`` through libyaml when available: the same documents, several times faster."""
    return yaml.load(stream, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader either way


@cache
def load_schema(name: str) -> dict[str, Any]:
    """Load a schema file (JSON or YAML) from ``workflow/schemas/``."""
    path = SCHEMA_DIR / name
    with path.open(encoding="utf-8") as fh:
        if name.endswith((".yaml", ".yml")):
            return load_yaml(fh)
        return json.load(fh)


def format_validation_error(path: str | Path, err: jsonschema.ValidationError) -> str:
    """Render a schema failure as ``at $.a[2].b: <what was expected>; got <value>``."""
    loc = "$"
    for part in err.absolute_path:
        loc += f"[{part}]" if isinstance(part, int) else f".{part}"
    got = json.dumps(err.instance, default=str)
    if len(got) > 80:
        got = got[:77] + "..."
    return f"at {loc}: {err.message}; got {got}"


@cache
def _registry() -> Any:
    """Every schema of this folder by its ``$id``, so one contract can ``$ref`` another (summary → scenario)."""
    from referencing import Registry, Resource

    named = [load_schema(name) for name, _, _ in KINDS.values()]
    return Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in named if "$id" in s)


def validate(data: Any, schema: dict[str, Any], path: str | Path) -> None:
    """Validate ``data`` against ``schema``; raise ``StallscopeError`` naming ``path`` on the first error."""
    validator = jsonschema.Draft202012Validator(schema, registry=_registry())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise StallscopeError(path, None, format_validation_error(path, errors[0]))


def _fill_defaults(validator_cls: type) -> type:
    """Extend a validator so that ``default`` values fill in missing keys (the jsonschema FAQ recipe)."""
    validate_props = validator_cls.VALIDATORS["properties"]

    def set_defaults(validator: Any, properties: Any, instance: Any, schema: Any) -> Any:
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub:
                    instance.setdefault(name, copy.deepcopy(sub["default"]))
        yield from validate_props(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_cls, {"properties": set_defaults})


#: validates and fills in every ``default`` of the schema, in place (the config's one source of defaults)
FillingValidator = _fill_defaults(jsonschema.Draft202012Validator)

#: the smallest config the schema accepts: what every default is filled into
_BARE_CONFIG = {"sut": {"kind": "reference", "source": "."},
                "scenarios": {"bare": {"total_bytes": 1, "expected_cause": NONE}}}


def config_defaults(block: str) -> dict[str, Any]:
    """The values the config schema fills into an absent ``block`` (``run``, ``defaults``, ``bench``, ...): for
    code that needs a built-in value without a config at hand (a benchmark, logs made elsewhere)."""
    return copy.deepcopy(_bare_config()[block])


@cache
def _bare_config() -> dict[str, Any]:
    data = copy.deepcopy(_BARE_CONFIG)
    FillingValidator(load_schema("config.schema.yaml")).validate(data)
    return data


def _check_version(path: str | Path, kind: str, data: Any) -> None:
    _, version, command = KINDS[kind]
    tag = data.get("schema") if isinstance(data, dict) else None
    expected = f"{kind}/{version}"
    if tag != expected:
        raise StallscopeError(
            path, None, f"schema is {tag!r}, this stallscope reads {expected!r}; regenerate it with `{command}`"
        )


def read_json(path: str | Path, kind: str) -> dict[str, Any]:
    """Read a JSON file of ``kind`` and validate it; errors name the file (and the schema, when that is missing)."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StallscopeError(p, None, f"missing {kind} file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise StallscopeError(p, line, f"not valid JSON: {exc}") from None
    _check_version(p, kind, data)
    try:
        schema = load_schema(KINDS[kind][0])
    except FileNotFoundError as exc:
        raise StallscopeError(
            p, None, f"cannot validate {kind} file: schema {SCHEMA_DIR / KINDS[kind][0]} is missing ({exc.strerror})"
        ) from None
    validate(data, schema, p)
    return data


def write_json(path: str | Path, kind: str, data: dict[str, Any]) -> Path:
    """Validate ``data`` as ``kind`` and write it atomically (temporary file, then rename)."""
    p = Path(path)
    _check_version(p, kind, data)
    validate(data, load_schema(KINDS[kind][0]), p)
    write_text_atomic(p, json.dumps(data, indent=2, sort_keys=False, default=_json_default) + "\n")
    return p


def write_text_atomic(path: str | Path, text: str | bytes) -> Path:
    """Write a file so that readers see either the old content or the new one, never a part."""
    with atomic_writer(path) as fh:
        fh.write(text.encode("utf-8") if isinstance(text, str) else text)
    return Path(path)


@contextlib.contextmanager
def atomic_writer(path: str | Path) -> Iterator[IO[bytes]]:
    """A binary file handle whose content appears at ``path`` whole when the block ends, or not at all.

    The one writer of every result: a temporary file beside ``path`` (mode 0666 less the umask, as ``open``
    would make it, not mkstemp's 0600, since results are for sharing), renamed over ``path`` on success and
    removed on any exception.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        os.fchmod(fd, result_mode())
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def result_mode() -> int:
    """The mode of every result: 0666 less the umask (0644 under the usual 022), as ``open`` would make it."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy scalars from pandas
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
