"""The trial tag: the name of one run under its scenario, in run directories, run ids, rule wildcards and reports.

``t3`` is trial 3 of a scenario; ``t3a2`` is attempt 2 of trial 3, one run of a multi-client driver's log that
retried a trial. Every stage, the workflow's rules and the views spell and read it through this one class.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class TrialTag:
    """A trial number (from 1) and, for a driver's retried trial, the attempt number (from 1)."""

    trial: int
    attempt: int | None = None

    #: the tag as a regular expression (the workflow's ``trial`` wildcard)
    PATTERN: ClassVar[str] = r"t\d+(a\d+)?"

    @classmethod
    def parse(cls, text: str) -> TrialTag:
        """``t3`` -> trial 3; ``t3a2`` -> trial 3, attempt 2; anything else is a ValueError naming it."""
        m = _TAG.fullmatch(text)
        if m is None:
            raise ValueError(f"not a trial tag (t<trial> or t<trial>a<attempt>): {text!r}")
        return cls(int(m.group(1)), int(m.group(2)) if m.group(2) is not None else None)

    def __str__(self) -> str:
        return f"t{self.trial}" + (f"a{self.attempt}" if self.attempt is not None else "")


_TAG = re.compile(r"t(\d+)(?:a(\d+))?")
