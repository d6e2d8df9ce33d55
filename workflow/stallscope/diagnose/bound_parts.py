"""What the bound's rules share: the sender-share classes, their words, the confidence margins and the entry.

Kept apart so that the rule for one slow path among fast ones (``bound_paths``) and the rest (``bound``) read the
same thresholds without importing each other.
"""

from __future__ import annotations

from typing import Any

from stallscope.shared.evidence import Evidence

#: The winning sender share of W: dominant at the first, clear at the second; margins over the runner-up.
DOMINANT_SHARE, CLEAR_SHARE = 0.5, 0.3
#: The sender shares describe the publish phase: below this share of the wall time they cannot bound the run
#: with high confidence.
MAJOR_SHARE = 0.5
HIGH_MARGIN, MEDIUM_MARGIN = 0.2, 0.1
#: A broker whose senders stay busy this many times longer than any other's holds the run on its own path.
SLOW_PATH_RATIO = 2.0
SENDER = {"idle_share": "client_producer", "rwnd_share": "flow_control", "sndbuf_share": "send_buffer",
          "network_share": "network"}
WORDS = {"idle_share": "idle (nothing to send)", "rwnd_share": "receive-window limited",
         "sndbuf_share": "send-buffer limited", "network_share": "busy, limited by neither window nor buffer"}


def entry(cause: str, confidence: str, summary: str, evidence: list[Evidence], missing: list[str],
          shares: dict[str, Any], brokers: list[int] | None = None) -> dict[str, Any]:
    """One claims.json ``bound`` entry (``brokers`` only when the bound names some)."""
    out = {"cause": cause, "confidence": confidence, "summary": summary,
           "evidence": [e.to_dict() for e in evidence], "missing": missing, "shares": shares}
    return out | ({"brokers": brokers} if brokers else {})
