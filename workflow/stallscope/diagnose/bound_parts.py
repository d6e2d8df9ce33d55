"""What the bound's rules share: the sender-share classes, their words and the entry.

Kept apart so that the rule for one slow path among fast ones (``bound_paths``) and the rest (``bound``) read the
same classes without importing each other (their thresholds: ``thresholds.py``).
"""

from __future__ import annotations

from typing import Any

from stallscope.shared.evidence import Evidence
from stallscope.shared.vocabulary import SENDER_SHARES

SENDER = SENDER_SHARES
WORDS = {"idle_share": "idle (nothing to send)", "rwnd_share": "receive-window limited",
         "sndbuf_share": "send-buffer limited", "network_share": "busy, limited by neither window nor buffer"}


def entry(cause: str, confidence: str, summary: str, evidence: list[Evidence], missing: list[str],
          shares: dict[str, Any], brokers: list[int] | None = None) -> dict[str, Any]:
    """One claims.json ``bound`` entry (``brokers`` only when the bound names some)."""
    out = {"cause": cause, "confidence": confidence, "summary": summary,
           "evidence": [e.to_dict() for e in evidence], "missing": missing, "shares": shares}
    return out | ({"brokers": brokers} if brokers else {})
