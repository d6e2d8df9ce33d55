"""Git worktrees of the broker source at one commit, in a cache folder of their own.

The baseline (``baseline.py``) and a patched build (``patches.py``) both build the source as of a commit without
touching the user's checkout: ``git worktree add --detach`` through GitPython into a folder named by the commit.
"""

from __future__ import annotations

import os
from pathlib import Path

import git

from stallscope.errors import StallscopeError

#: Where baseline worktrees live unless the caller names a folder (inside results/, which is not tracked).
DEFAULT_CACHE = Path("results/baseline-src")


def repo_of(source: Path) -> git.Repo:
    """The git repository holding ``source`` (one clear error when there is none)."""
    try:
        return git.Repo(source, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise StallscopeError(source, None, "a baseline revision needs the source in a git repository") from None


def worktree_source(source: Path, commit: str, tree: Path) -> Path:
    """``source`` as of ``commit``, in the git worktree ``tree`` (made by ``git worktree add --detach``, or reused
    when already there at that commit): ``<tree>/<source relative to the repo root>``."""
    src = Path(source).resolve()
    repo = repo_of(src)
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
    repo = repo_of(Path(source).resolve())
    repo.git.worktree("remove", "--force", str(Path(tree).resolve()))
