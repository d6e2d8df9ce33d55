"""The SUT adapters by ``sut.kind``: the one place the runner and the build look a broker under test up."""

from __future__ import annotations

from stallscope.errors import StallscopeError
from stallscope.experiment.adapter import SutAdapter
from stallscope.experiment.embarcadero import EMBARCADERO
from stallscope.experiment.external import EXTERNAL
from stallscope.experiment.reference import REFERENCE

ADAPTERS: dict[str, SutAdapter] = {a.kind: a for a in (REFERENCE, EXTERNAL, EMBARCADERO)}


def for_kind(kind: str) -> SutAdapter:
    """The adapter of ``sut.kind`` (the config schema admits only these kinds)."""
    try:
        return ADAPTERS[kind]
    except KeyError:
        raise StallscopeError(None, None, f"sut.kind {kind!r} has no adapter; known: {sorted(ADAPTERS)}") from None
