"""Split client.log's error/failed/timeout matches into benign and real, so a benign warning cannot fail a verdict."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from stallscope import schemas

BENIGN_PATH = Path(__file__).with_name("benign.yaml")
WORDS = re.compile(r"error|failed|timeout", re.IGNORECASE)
ITEMS_KEPT = 20


@lru_cache(maxsize=1)
def load_rules() -> tuple[tuple[str, re.Pattern[str], str | None], ...]:
    """Read the benign list (data)."""
    data = schemas.load_yaml(BENIGN_PATH.read_text(encoding="utf-8"))
    return tuple((r["name"], re.compile(r["regex"]), r.get("when")) for r in data["rules"])


def classify(text: str, conditions: dict[str, bool]) -> str:
    """Name the benign rule a matching line falls under, or "real"."""
    for name, pat, when in load_rules():
        if pat.search(text) and (when is None or conditions.get(when, False)):
            return name
    return "real"


def client_log_matches(
    path: Path | None, conditions: dict[str, bool]
) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """Stream client.log; count benign and real matches; keep the first 20, and the first 5 line numbers of each."""
    out: dict[str, Any] = {"benign": 0, "real": 0, "items": []}
    firsts: dict[str, list[int]] = {"benign": [], "real": []}
    if path is None or not path.is_file():
        return out, firsts
    with path.open("rb") as fh:
        for no, raw in enumerate(fh, 1):
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not WORDS.search(text):
                continue
            rule = classify(text, conditions)
            group = "real" if rule == "real" else "benign"
            out[group] += 1
            if len(firsts[group]) < 5:
                firsts[group].append(no)
            if len(out["items"]) < ITEMS_KEPT:
                out["items"].append({"line": no, "text": text[:500], "rule": rule})
    return out, firsts
