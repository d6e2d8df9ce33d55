"""The baseline source: a git worktree at the revision, the user's tree untouched, reused, removable."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from stallscope.errors import StallscopeError
from stallscope.experiment.baseline import baseline_source
from stallscope.experiment.worktree import remove_worktree


def _repo(tmp: Path) -> tuple[git.Repo, str, str]:
    repo = git.Repo.init(tmp / "repo")
    src = tmp / "repo" / "broker"
    src.mkdir()
    actor = git.Actor("t", "t@example.invalid")
    (src / "a.h").write_text("int x = 1;\n")
    repo.git.add(A=True)
    old = repo.index.commit("one", author=actor, committer=actor).hexsha
    (src / "a.h").write_text("int x = 2;\n")
    repo.git.add(A=True)
    new = repo.index.commit("two", author=actor, committer=actor).hexsha
    return repo, old, new


def test_worktree_at_revision_leaves_the_users_tree_alone(tmp_path: Path) -> None:
    repo, old, new = _repo(tmp_path)
    src = tmp_path / "repo" / "broker"
    (src / "a.h").write_text("int x = 3; // uncommitted\n")
    branch = repo.active_branch.name
    got = baseline_source(src, old[:8], tmp_path / "wt")
    assert got == (tmp_path / "wt" / old[:12] / "broker").resolve()
    assert (got / "a.h").read_text() == "int x = 1;\n"
    assert (src / "a.h").read_text() == "int x = 3; // uncommitted\n"
    assert repo.head.commit.hexsha == new and repo.active_branch.name == branch
    assert baseline_source(src, old, tmp_path / "wt") == got  # reused, not checked out again
    remove_worktree(src, got.parent)
    assert not got.parent.exists() and old[:12] not in repo.git.worktree("list")


def test_a_worktree_removed_with_its_folder_is_made_again(tmp_path: Path) -> None:
    """``rm -rf results`` leaves git's record of the worktree behind; the next build must still get its source."""
    import shutil

    repo, old, _ = _repo(tmp_path)
    src = tmp_path / "repo" / "broker"
    got = baseline_source(src, old, tmp_path / "results" / "wt")
    shutil.rmtree(tmp_path / "results")
    assert old[:12] in repo.git.worktree("list")  # still registered, folder gone
    again = baseline_source(src, old, tmp_path / "results" / "wt")
    assert again == got and (again / "a.h").read_text() == "int x = 1;\n"


def test_unknown_revision_is_one_clear_error(tmp_path: Path) -> None:
    _repo(tmp_path)
    with pytest.raises(StallscopeError, match="not a commit"):
        baseline_source(tmp_path / "repo" / "broker", "no-such-rev", tmp_path / "wt")


def test_not_a_repository_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(StallscopeError, match="git repository"):
        baseline_source(tmp_path / "plain", "HEAD", tmp_path / "wt")
