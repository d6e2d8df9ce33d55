"""Shared fixtures for the panel tests: judge one claim over hand-built runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stallscope.diagnose.stage import diagnose_run
from stallscope.panel.catalogue import load_catalogue
from stallscope.panel.context import Context
from stallscope.panel.evaluate import evaluate_claim
from stallscope.panel.verdicts import Verdict
from tests.builders.panel import panel_run

CATALOGUE = load_catalogue()
CLAIMS = {c.id: c for c in CATALOGUE.claims}


def judge(claim_id: str, *pairs: tuple[dict[str, Any] | None, dict[str, Any] | None],
          extras: dict[str, Any] | None = None, configured: dict[str, Any] | None = None) -> Verdict:
    """Evaluate one claim over in-memory runs built from (metrics, manifest) pairs, diagnosed as assess would."""
    runs = tuple(panel_run(m, man) for m, man in pairs)
    bench = (extras or {}).get("overhead_bench")
    bounds = {str(r.dir): diagnose_run(r, bench)["bound"] for r in runs}
    ctx = Context(runs, configured or {}, extras or {}, {}, bounds)
    return evaluate_claim(ctx, CLAIMS[claim_id])


@pytest.fixture
def judge_claim() -> Callable[..., Verdict]:
    """The ``judge`` function as a fixture."""
    return judge
