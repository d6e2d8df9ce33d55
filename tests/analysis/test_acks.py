"""The table of places the acknowledged count is read from: each names a field the dialect catalogue produces."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from stallscope.analysis.acks import ACKED_SOURCES, acked_messages

CATALOGUE = Path(__file__).resolve().parents[2] / "workflow" / "stallscope" / "logs" / "catalogue.yaml"


def _events(*fields_by_kind: tuple[str, dict]) -> pd.DataFrame:
    rows = [{"role": "client", "kind": k, "fields": f} for k, f in fields_by_kind]
    return pd.DataFrame(rows, columns=["role", "kind", "fields"])


def test_acked_sources_name_catalogue_fields() -> None:
    entries = yaml.safe_load(CATALOGUE.read_text())["recognisers"]
    for src in ACKED_SOURCES:
        forms = [e for e in entries if e["kind"] == src.kind]
        assert forms, f"{src.kind} is not a catalogue kind"
        assert any(src.key in e["fields"] or src.key in (e.get("aliases") or {}).values() or e.get("kv")
                   for e in forms), f"{src.kind} has no field {src.key}"


def test_acked_messages_empty_none() -> None:
    assert acked_messages(_events(), is_timeout=False) is None


def test_acked_messages_first_source_wins_and_sent_count_skipped_after_timeout() -> None:
    ev = _events(("ack_progress", {"received": 5}), ("publish_finished", {"messages": 9}))
    assert acked_messages(ev, is_timeout=False) == 9
    assert acked_messages(ev, is_timeout=True) == 5
