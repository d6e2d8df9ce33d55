from __future__ import annotations

import re
import subprocess
from pathlib import Path

from stallscope.shared.provenance import git_facts, host_facts

SUT_RE = re.compile(r"^[0-9a-f]{12}(-dirty-[0-9a-f]{8})?$")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                   capture_output=True)


def _repo(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "-q")
    (tmp_path / "broker").mkdir()
    (tmp_path / "broker" / "a.cc").write_text("int main() {}\n")
    (tmp_path / "other.txt").write_text("x\n")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "first")
    return tmp_path


def test_git_facts_clean_tree_has_no_dirty_suffix(tmp_path: Path) -> None:
    facts = git_facts(_repo(tmp_path) / "broker")
    assert SUT_RE.match(facts["id"]) and "dirty" not in facts["id"]
    assert facts["is_dirty"] is False and facts["commit_subject"] == "first"


def test_git_facts_uncommitted_change_adds_dirty_suffix(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "broker" / "a.cc").write_text("int main() { return 1; }\n")
    facts = git_facts(repo / "broker")
    assert re.match(r"^[0-9a-f]{12}-dirty-[0-9a-f]{8}$", facts["id"]) and facts["is_dirty"] is True


def test_git_facts_different_edits_give_different_dirty_ids(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "broker" / "a.cc").write_text("// one\n")
    one = git_facts(repo / "broker")["id"]
    (repo / "broker" / "a.cc").write_text("// two\n")
    assert git_facts(repo / "broker")["id"] != one


def test_git_facts_untracked_file_in_source_makes_it_dirty(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "broker" / "new.h").write_text("#pragma once\n")
    assert git_facts(repo / "broker")["is_dirty"] is True


def test_git_facts_change_outside_source_keeps_it_clean(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "other.txt").write_text("changed\n")
    assert git_facts(repo / "broker")["is_dirty"] is False


def test_git_facts_outside_git_is_unknown(tmp_path: Path) -> None:
    assert git_facts(tmp_path)["id"] == "unknown"


def test_host_facts_has_cores_and_memory() -> None:
    h = host_facts()
    assert h["cores"] >= 1 and h["memory_bytes"] > 0 and h["hostname"]
