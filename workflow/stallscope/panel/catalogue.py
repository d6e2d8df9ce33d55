"""The claims catalogue (``panel/claims.yaml``): experts and claims as data, checked against
``workflow/schemas/claims_catalogue.schema.yaml``. Claim text lives only in the YAML."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from stallscope import schemas
from stallscope.errors import StallscopeError

CATALOGUE_PATH = Path(__file__).resolve().parent / "claims.yaml"
CATALOGUE_SCHEMA = "claims_catalogue.schema.yaml"


@dataclass(frozen=True)
class Expert:
    """A panel member: number 1-4, name and the question they ask."""

    number: int
    name: str
    question: str


@dataclass(frozen=True)
class Claim:
    """One catalogue entry; its predicate is the one registered under its id (``panel/predicates.py``)."""

    id: str
    expert: int
    title: str
    statement: str
    scenarios: tuple[str, ...]
    cites: tuple[str, ...]
    settle_hint: str
    inputs: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    without_baseline: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: Path) -> Claim:
        """Build from a catalogue entry; unknown keys are rejected (the schema already checked them)."""
        known = {"id", "expert", "title", "statement", "scenarios", "cites", "settle_hint", "inputs", "needs",
                 "without_baseline"}
        stray = sorted(set(d) - known)
        if stray:
            raise StallscopeError(source, None, f"claim {d.get('id')!r}: unknown keys {', '.join(stray)}")
        return cls(
            id=d["id"],
            expert=int(d["expert"]),
            title=d["title"],
            statement=" ".join(str(d["statement"]).split()),
            scenarios=tuple(d["scenarios"]),
            cites=tuple(d.get("cites") or ()),
            settle_hint=" ".join(str(d["settle_hint"]).split()),
            inputs=tuple(d.get("inputs") or ()),
            needs=tuple(d.get("needs") or ()),
            without_baseline=tuple(d.get("without_baseline") or ()),
        )


@dataclass(frozen=True)
class Catalogue:
    """Experts and claims, in catalogue order."""

    experts: tuple[Expert, ...]
    claims: tuple[Claim, ...]


def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    """Read and validate the catalogue; errors name the file. Read once per file version in a process (the
    catalogue is immutable once read; reading and validating it was a sixth of a small run's assessment)."""
    try:
        st = Path(path).stat()
    except OSError:
        return _read_catalogue(Path(path))  # names the file in its error
    return _catalogue_version(str(path), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=8)
def _catalogue_version(path: str, mtime_ns: int, size: int) -> Catalogue:
    return _read_catalogue(Path(path))


def _read_catalogue(path: Path) -> Catalogue:
    try:
        data = schemas.load_yaml(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise StallscopeError(path, None, f"cannot read the claims catalogue: {exc}") from None
    schemas.validate(data, schemas.load_schema(CATALOGUE_SCHEMA), path)
    experts = tuple(Expert(e["number"], e["name"], e["question"]) for e in data["experts"])
    claims = tuple(Claim.from_dict(c, path) for c in data["claims"])
    ids = [c.id for c in claims]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise StallscopeError(path, None, f"duplicate claim ids: {', '.join(dup)}")
    numbers = {e.number for e in experts}
    for c in claims:
        if c.expert not in numbers:
            raise StallscopeError(path, None, f"claim {c.id!r}: expert {c.expert} is not in `experts`")
    return Catalogue(experts, claims)
