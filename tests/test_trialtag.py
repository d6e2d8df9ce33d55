"""The trial tag reads back what it writes, and the workflow's wildcard accepts exactly the tags it writes."""

from __future__ import annotations

import re

import pytest

from stallscope.shared.trialtag import TrialTag


@pytest.mark.parametrize(("text", "trial", "attempt"), [("t1", 1, None), ("t3", 3, None), ("t3a2", 3, 2),
                                                        ("t12a10", 12, 10)])
def test_trial_tag_parses_and_formats_back(text: str, trial: int, attempt: int | None) -> None:
    tag = TrialTag.parse(text)
    assert (tag.trial, tag.attempt) == (trial, attempt)
    assert str(tag) == text and f"{tag}" == text
    assert re.fullmatch(TrialTag.PATTERN, text)


@pytest.mark.parametrize("text", ["", "3", "t", "ta2", "t3a", "T3", "t3b2", "t3a2x", "xt3"])
def test_trial_tag_rejects_other_names(text: str) -> None:
    with pytest.raises(ValueError, match="not a trial tag"):
        TrialTag.parse(text)
    assert not re.fullmatch(TrialTag.PATTERN, text)

