"""The baseline SUT: the broker source at another git revision, in a worktree of its own.

``sut.baseline: <rev>`` (or ``stallscope build --rev``) builds the broker as it was at ``rev`` so the same
scenarios and trials can run against both. The source is checked out with ``git worktree add --detach``
through GitPython into a cache folder named by the commit, never by a checkout in the user's tree (their branch,
index and uncommitted edits stay untouched). A worktree already there for the same commit is reused, so a rerun
does not check out again; ``worktree.remove_worktree`` takes it away when the caller is done with it.
"""

from __future__ import annotations

from pathlib import Path

import git

from stallscope.errors import StallscopeError
from stallscope.experiment.patches import patch_facts, patch_paths, patched_id
from stallscope.experiment.worktree import DEFAULT_CACHE, repo_of, worktree_source


def resolve(source: Path, rev: str) -> str:
    """The full commit hash ``rev`` names in the repository holding ``source``; one clear error otherwise."""
    repo = repo_of(source)
    try:
        return repo.commit(rev).hexsha
    except (git.BadName, ValueError, git.GitCommandError):
        raise StallscopeError(source, None, f"baseline revision {rev!r} is not a commit of this repository") from None


def baseline_source(source: Path, rev: str, cache: Path = DEFAULT_CACHE) -> Path:
    """The broker source directory as of ``rev``: ``<cache>/<commit[:12]>/<source relative to the repo root>``.

    Made by ``git worktree add --detach`` (reused when it is already there at that commit).
    """
    src = Path(source).resolve()
    commit = resolve(src, rev)
    return worktree_source(src, commit, (Path(cache) / commit[:12]).resolve())


#: The pseudo-SUT naming the baseline's results in the DAG (``results/{build,runs,assessment}/baseline-<commit>``).
#: Its own prefix keeps them apart from the candidate's even when both are the same commit (a baseline of HEAD).
BASELINE_PREFIX = "baseline-"
BASELINE_PATTERN = BASELINE_PREFIX + r"[0-9a-f]{12}(-patched-[0-9a-f]{8})?"


def baseline_sut(cfg: dict) -> str | None:
    """``baseline-<commit[:12]>`` (plus ``-patched-<8 hex>`` when the baseline is patched) for the config's
    ``sut.baseline`` revision, None when the config sets none.

    The revision is resolved when the DAG is built, so moving a branch name renames (and so reruns) the baseline.
    """
    rev = (cfg.get("sut") or {}).get("baseline")
    if not rev:
        return None
    commit = resolve(Path(cfg["sut"]["source"]), str(rev))
    return BASELINE_PREFIX + patched_id(commit[:12], patch_facts(patch_paths(cfg["sut"], baseline=True)))


def baseline_commit(cfg: dict) -> str:
    """The full commit hash of ``sut.baseline`` (what ``stallscope build --rev`` is given)."""
    return resolve(Path(cfg["sut"]["source"]), str(cfg["sut"]["baseline"]))
