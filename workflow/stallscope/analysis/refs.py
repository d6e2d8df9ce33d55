"""Collect the log lines that claims cite, exactly as they appear in the files (so file:line can be checked).

Each text is capped by ``cap_excerpt`` (300 characters and a marked cut): the file and line lead to the rest."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from stallscope.shared.excerpt import cap_excerpt

ITEMS_KEPT = 5
NAMES = (
    "stall_header", "stall_partial", "stall_payload", "stall_init", "stall_publish", "stall_drain", "stall_post",
    "stall_closed", "ring_full", "conn_closed", "ack_timeout", "ack_per_broker", "batch_stats", "ack_progress_last",
    "publish_completed", "publish_finished", "bandwidth", "publish_failed", "init_wait", "hugepages",
    "hugetlb_fallback", "benign_matches", "real_matches", "tcp_info", "send_stats", "broker_metrics", "banner",
    "pipeline_profile", "zero_batches", "phase_publish_start", "phase_send_done", "phase_ack_done",
    "phase_ack_timeout", "fault",
)
#: Refs named after an event kind: each cites the events of that kind (the others are built below).
_CITED_BY_KIND = ("stall_header", "stall_partial", "stall_payload", "ring_full", "ack_timeout", "ack_per_broker",
                  "batch_stats", "publish_completed", "publish_finished", "bandwidth", "publish_failed", "init_wait",
                  "hugepages", "hugetlb_fallback", "tcp_info", "send_stats", "broker_metrics", "pipeline_profile",
                  "zero_batches", "fault")


def read_lines(path: Path, wanted: Iterable[int], chunk_bytes: int = 8 << 20) -> dict[int, str]:
    """Return the given 1-based lines of a file, decoded with replacement, without their newline."""
    todo = sorted(set(wanted))
    out: dict[int, str] = {}
    if not todo or not path.is_file():
        return out
    base, pending = 0, b""
    with path.open("rb") as fh:
        while todo:
            data = fh.read(chunk_bytes)
            buf = pending + data
            if not data:
                if buf and todo[0] == base + 1:
                    out[todo[0]] = buf.decode("utf-8", "replace").rstrip("\r")
                break
            cut = buf.rfind(b"\n")
            if cut < 0:
                pending = buf
                continue
            n = buf.count(b"\n", 0, cut + 1)
            if todo[0] <= base + n:
                parts = buf[: cut + 1].split(b"\n")
                while todo and todo[0] <= base + n:
                    out[todo[0]] = parts[todo[0] - base - 1].decode("utf-8", "replace").rstrip("\r")
                    todo.pop(0)
            base += n
            pending = buf[cut + 1 :]
    return out


def collect_refs(ev: pd.DataFrame, stalls: pd.DataFrame, client_log: str | None, firsts: dict[str, list[int]],
                 counts: dict[str, int], run_dir: Path) -> dict[str, Any]:
    """Build refs: per name a count and up to 5 {file, line, text} items."""
    picks: dict[str, tuple[int, list[tuple[str, int]]]] = {}

    def put(name: str, df: pd.DataFrame) -> None:
        picks[name] = (int(len(df)), list(zip(df["file"], df["line"].astype(int), strict=True))[:ITEMS_KEPT])

    for name in _CITED_BY_KIND:
        put(name, ev[ev["kind"] == name])
    for ph in ("init", "publish", "drain", "post"):
        put(f"stall_{ph}", stalls[stalls["phase"] == ph])
    put("stall_closed", stalls[stalls["closed"].astype(bool)] if len(stalls) else stalls)
    put("conn_closed", ev[ev["kind"].str.startswith("conn_closed")])
    prog = ev[ev["kind"] == "ack_progress"]
    put("ack_progress_last", prog.tail(1))
    picks["ack_progress_last"] = (int(len(prog)), picks["ack_progress_last"][1])
    put("banner", ev[ev["kind"] == "client_banner"])
    phase = ev[ev["kind"] == "phase"]
    for nm in ("publish_start", "send_done", "ack_done", "ack_timeout"):
        put(f"phase_{nm}", phase[[f.get("name") == nm for f in phase["fields"]]] if len(phase) else phase)
    for name, group in (("benign_matches", "benign"), ("real_matches", "real")):
        items = [(client_log, ln) for ln in firsts[group]] if client_log else []
        picks[name] = (counts[name], items[:ITEMS_KEPT])
    wanted: dict[str, set[int]] = {}
    for _, items in picks.values():
        for f, line in items:
            wanted.setdefault(f, set()).add(line)
    texts = {f: read_lines(run_dir / f, lines) for f, lines in wanted.items()}
    return {
        name: {"count": picks[name][0],
               "items": [{"file": f, "line": ln, "text": cap_excerpt(texts[f].get(ln, ""))}
                         for f, ln in picks[name][1]]}
        for name in NAMES
    }
