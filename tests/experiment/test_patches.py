"""sut.patches: applied in a worktree before the build, named by the commit plus the patches' digest, recorded in
build.json; the user's tree untouched; a patch that does not apply is one clear line and leaves no tree."""

from __future__ import annotations

import difflib
import re
import shutil
from pathlib import Path

import git
import pytest
import yaml

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.experiment.build import build_broker
from stallscope.experiment.patches import patch_digest, patch_facts, patched_id
from stallscope.shared.provenance import git_facts, sha256_file
from stallscope.targets import SUT_PATTERN, sut_id

REPO = Path(__file__).resolve().parents[2]
ACTOR = git.Actor("t", "t@example.invalid")


def _diff(rel: str, old: str, new: str) -> str:
    """A git-style unified diff of one file (what `git diff` would write)."""
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=f"a/{rel}", tofile=f"b/{rel}")
    return f"diff --git a/{rel} b/{rel}\n" + "".join(lines)


def _tool_repo(tmp: Path) -> tuple[git.Repo, Path, dict]:
    """A repository whose 'broker' is a script copied into place by its build command (no compiler needed)."""
    repo = git.Repo.init(tmp / "repo")
    src = tmp / "repo" / "broker"
    src.mkdir()
    (src / "tool.sh").write_text("echo one\necho two\n")
    repo.git.add(A=True)
    repo.index.commit("one", author=ACTOR, committer=ACTOR)
    sut = {"kind": "external", "source": str(src), "build_command": [["cp", "{source}/tool.sh", "{build_dir}/tool"]],
           "binaries": ["tool"], "broker_command": ["{bin_dir}/tool"], "client_command": ["{bin_dir}/tool"]}
    return repo, src, sut


def _config(tmp: Path, sut: dict) -> Path:
    cfg = {"sut": sut, "scenarios": {"s": {"total_bytes": 1048576, "expected_cause": "none"}}}
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_patch_facts_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(StallscopeError, match="nope.patch.*not found"):
        patch_facts([str(tmp_path / "nope.patch")])


def test_patched_id_digest_follows_content_and_order(tmp_path: Path) -> None:
    a, b = tmp_path / "a.patch", tmp_path / "b.patch"
    a.write_text("x\n")
    b.write_text("y\n")
    ab, ba = patch_facts([a, b]), patch_facts([b, a])
    assert patch_digest(ab) != patch_digest(ba)
    assert patched_id("0123456789ab", []) == "0123456789ab"
    pid = patched_id("0123456789ab", ab)
    assert re.fullmatch(SUT_PATTERN, pid) and pid.endswith(patch_digest(ab)[:8])
    b.write_text("z\n")
    assert patched_id("0123456789ab", patch_facts([a, b])) != pid


def test_patched_build_applies_in_a_worktree_and_records_the_patch(tmp_path: Path) -> None:
    repo, src, sut = _tool_repo(tmp_path)
    patch = tmp_path / "three.patch"
    patch.write_text(_diff("broker/tool.sh", "echo one\necho two\n", "echo one\necho two\necho three\n"))
    sut["patches"] = [str(patch)]
    cfg = _config(tmp_path, sut)
    build = schemas.read_json(build_broker(cfg, tmp_path / "build", worktrees=tmp_path / "wt"), "build")
    commit = repo.head.commit.hexsha
    digest = patch_digest(patch_facts([patch]))
    assert build["sut"]["id"] == f"{commit[:12]}-patched-{digest[:8]}" == sut_id({"sut": sut})
    assert build["sut"]["patches"] == [{"path": str(patch), "sha256": sha256_file(patch)}]
    assert build["sut"]["is_dirty"] is False and build["sut"]["commit"] == commit
    assert (tmp_path / "build" / "bin" / "tool").read_text().endswith("echo three\n")
    # the user's tree, index and branch untouched
    assert (src / "tool.sh").read_text() == "echo one\necho two\n" and not repo.is_dirty(untracked_files=True)
    # a second build reuses the patched worktree (not applied twice, which git apply would refuse)
    again = schemas.read_json(build_broker(cfg, tmp_path / "build2", worktrees=tmp_path / "wt"), "build")
    assert again["sut"]["id"] == build["sut"]["id"]
    # no patches: the plain commit's id and binary
    plain = schemas.read_json(build_broker(cfg, tmp_path / "build3", worktrees=tmp_path / "wt", patches=[]), "build")
    assert plain["sut"]["id"] == commit[:12] and "patches" not in plain["sut"]
    assert (tmp_path / "build3" / "bin" / "tool").read_text() == "echo one\necho two\n"


def test_patch_that_does_not_apply_names_the_patch_and_leaves_no_tree(tmp_path: Path) -> None:
    repo, src, sut = _tool_repo(tmp_path)
    patch = tmp_path / "bad.patch"
    patch.write_text(_diff("broker/tool.sh", "echo uno\necho dos\n", "echo uno\necho tres\n"))
    sut["patches"] = [str(patch)]
    with pytest.raises(StallscopeError) as exc:
        build_broker(_config(tmp_path, sut), tmp_path / "build", worktrees=tmp_path / "wt")
    msg = str(exc.value)
    assert msg.startswith(str(patch)) and "does not apply to" in msg and "\n" not in msg
    assert not any((tmp_path / "wt").iterdir()) and len(repo.git.worktree("list").splitlines()) == 1


def test_patches_on_a_dirty_source_are_refused(tmp_path: Path) -> None:
    _, src, sut = _tool_repo(tmp_path)
    patch = tmp_path / "p.patch"
    patch.write_text(_diff("broker/tool.sh", "echo one\necho two\n", "echo one\n"))
    sut["patches"] = [str(patch)]
    (src / "tool.sh").write_text("echo edited\n")
    with pytest.raises(StallscopeError, match="uncommitted changes"):
        build_broker(_config(tmp_path, sut), tmp_path / "build", worktrees=tmp_path / "wt")


@pytest.mark.e2e
@pytest.mark.skipif(not shutil.which("cmake"), reason="cmake is needed to build the broker")
def test_patched_reference_broker_builds_the_patched_source(tmp_path: Path) -> None:
    """The reference broker (sut.kind: reference) patched: a startup line added to refbroker ends up in the binary,
    the unpatched tree stays as it was. A copy of workflow/broker in a repository of its own, so the test makes no
    worktree of this repository."""
    src = tmp_path / "repo" / "broker"
    shutil.copytree(REPO / "workflow" / "broker", src)
    repo = git.Repo.init(tmp_path / "repo")
    repo.git.add(A=True)
    repo.index.commit("broker", author=ACTOR, committer=ACTOR)
    main = src / "src" / "broker_main.cc"
    old = main.read_text()
    anchor = '  LOGI("Starting Embarlet broker_id: %lld", b);\n'
    assert old.count(anchor) == 1
    marker = "[Patched] stallscope patch test"
    patch = tmp_path / "hello.patch"
    patch.write_text(_diff("broker/src/broker_main.cc", old, old.replace(anchor, anchor + f'  LOGI("{marker}");\n')))
    cfg = _config(tmp_path, {"kind": "reference", "source": str(src), "patches": [str(patch)]})
    build = schemas.read_json(build_broker(cfg, tmp_path / "build", worktrees=tmp_path / "wt"), "build")
    assert build["sut"]["id"].endswith("-patched-" + patch_digest(patch_facts([patch]))[:8])
    assert marker.encode() in (tmp_path / "build" / "bin" / "refbroker").read_bytes()
    assert main.read_text() == old and git_facts(src)["is_dirty"] is False


def test_baseline_takes_baseline_patches_else_the_candidates(tmp_path: Path) -> None:
    from stallscope.experiment.baseline import BASELINE_PATTERN, baseline_sut

    repo, _, sut = _tool_repo(tmp_path)
    patch = tmp_path / "p.patch"
    patch.write_text(_diff("broker/tool.sh", "echo one\necho two\n", "echo one\n"))
    commit = repo.head.commit.hexsha[:12]
    digest = patch_digest(patch_facts([patch]))[:8]
    cfg = {"sut": {**sut, "patches": [str(patch)], "baseline": "HEAD"}}
    assert sut_id(cfg) == baseline_sut(cfg)[len("baseline-"):] == f"{commit}-patched-{digest}"
    cfg["sut"]["baseline_patches"] = []
    assert baseline_sut(cfg) == f"baseline-{commit}" and re.fullmatch(BASELINE_PATTERN, baseline_sut(cfg))
    assert re.fullmatch(BASELINE_PATTERN, f"baseline-{commit}-patched-{digest}")
