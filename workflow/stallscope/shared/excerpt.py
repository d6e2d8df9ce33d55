"""Bound the log text that evidence carries: one excerpt is at most ``EXCERPT_CHARS`` characters plus a marked cut.

A log line can be any length (a corrupted record, a dump glued onto a ``[STALL]`` line); copying it whole into
metrics.json, claims.json and every page that cites it made the report cost grow with the line. The cited
``file:line`` still leads to the whole line, so the cut loses nothing a reader cannot look up.
"""

from __future__ import annotations

EXCERPT_CHARS = 300
CUT_MARK = " …[cut: {n:,} more characters; the whole line is in the log at the cited line]"


def cap_excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str | None:
    """Return ``text`` unchanged when it has at most ``limit`` characters, else its first ``limit`` characters
    followed by the cut mark that says how many were left out (an already cut text is returned as it is)."""
    if text is None or len(text) <= limit:
        return text
    if text[limit:].startswith(CUT_MARK[:8]):
        return text
    return text[:limit] + CUT_MARK.format(n=len(text) - limit)
