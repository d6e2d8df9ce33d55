"""The baseline SUT: the broker source at another git revision, in a worktree of its own.

``sut.baseline: <rev>`` (or ``stallscope build --rev``) builds the broker as it was at ``rev`` so the same
scenarios and trials can run against both. The source is checked out with ``git worktree add --detach``
through GitPython into a cache folder named by the commit, never by a checkout in the user's tree (their branch,
index and uncommitted edits stay untouched). A worktree already there for the same commit is reused, so a rerun
does not check out again; ``remove_worktree`` takes it away when the caller is done with it.
"""

from __future__ import annotations

import os
from pathlib import Path

import git

from stallscope.errors import StallscopeError

#: Where baseline worktrees live unless the caller names a folder (inside results/, which is not tracked).
DEFAULT_CACHE = Path("results/baseline-src")


def _repo(source: Path) -> git.Repo:
    try:
        return git.Repo(source, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise StallscopeError(source, None, "a baseline revision needs the source in a git repository") from None


def resolve(source: Path, rev: str) -> str:
    """The full commit hash ``rev`` names in the repository holding ``source``; one clear error otherwise."""
    repo = _repo(source)
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


def worktree_source(source: Path, commit: str, tree: Path) -> Path:
    """``source`` as of ``commit``, in the git worktree ``tree`` (made by ``git worktree add --detach``, or reused
    when already there at that commit): ``<tree>/<source relative to the repo root>``."""
    src = Path(source).resolve()
    repo = _repo(src)
    root = Path(repo.working_tree_dir or src)
    rel = os.path.relpath(src, root)
    if tree.is_dir():
        try:
            if git.Repo(tree).head.commit.hexsha == commit:
                return tree / rel
        except (git.InvalidGitRepositoryError, git.NoSuchPathError, ValueError):
            pass
        raise StallscopeError(tree, None, "exists but is not a worktree at the baseline commit; remove it")
    tree.parent.mkdir(parents=True, exist_ok=True)
    try:
        # --force: a worktree deleted with its folder (``rm -rf results``) stays registered in the user's repository
        # ("missing but already registered"); the folder is known to be absent here and --detach takes no branch.
        repo.git.worktree("add", "--force", "--detach", str(tree), commit)
    except git.GitCommandError as exc:
        first = (exc.stderr or str(exc)).strip().splitlines()[-1:] or ["git worktree add failed"]
        raise StallscopeError(tree, None, f"git worktree add failed: {first[0]}") from None
    if not (tree / rel).is_dir():
        raise StallscopeError(tree / rel, None, f"the broker source did not exist at {commit[:12]}")
    return tree / rel


def remove_worktree(source: Path, tree: Path) -> None:
    """Remove a baseline worktree made by ``baseline_source`` (and git's record of it)."""
    repo = _repo(Path(source).resolve())
    repo.git.worktree("remove", "--force", str(Path(tree).resolve()))


#: The pseudo-SUT naming the baseline's results in the DAG (``results/{build,runs,assessment}/baseline-<commit>``).
#: Its own prefix keeps them apart from the candidate's even when both are the same commit (a baseline of HEAD).
BASELINE_PREFIX = "baseline-"
BASELINE_PATTERN = BASELINE_PREFIX + r"[0-9a-f]{12}(-patched-[0-9a-f]{8})?"


def baseline_sut(cfg: dict) -> str | None:
    """``baseline-<commit[:12]>`` (plus ``-patched-<8 hex>`` when the baseline is patched) for the config's
    ``sut.baseline`` revision, None when the config sets none.

    The revision is resolved when the DAG is built, so moving a branch name renames (and so reruns) the baseline.
    """
    from stallscope.experiment.patches import patch_facts, patch_paths, patched_id

    rev = (cfg.get("sut") or {}).get("baseline")
    if not rev:
        return None
    commit = resolve(Path(cfg["sut"]["source"]), str(rev))
    return BASELINE_PREFIX + patched_id(commit[:12], patch_facts(patch_paths(cfg["sut"], baseline=True)))


def baseline_commit(cfg: dict) -> str:
    """The full commit hash of ``sut.baseline`` (what ``stallscope build --rev`` is given)."""
    return resolve(Path(cfg["sut"]["source"]), str(cfg["sut"]["baseline"]))
