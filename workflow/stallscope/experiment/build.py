"""Build the broker under test and record what was built (commit, compiler, flags, binary hashes).

Reads the broker source named in the config; writes ``<out>/bin/*`` and ``<out>/build.json``.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.experiment.commands import REFERENCE_BINARIES, build_templates, fill_argv
from stallscope.experiment.config import load_config
from stallscope.experiment.patches import patch_facts, patch_paths, patched_id, patched_source
from stallscope.experiment.worktree import DEFAULT_CACHE
from stallscope.shared.provenance import git_facts, sha256_file, utc_now

BUILD_TIMEOUT_S = 900


def _run(argv: list[str], cwd: Path | None = None) -> str:
    """Run a build step, echoing its output into the job log; fail naming the command."""
    print("+ " + shlex.join(argv), file=sys.stderr, flush=True)
    try:
        res = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=BUILD_TIMEOUT_S, check=False)
    except FileNotFoundError:
        raise StallscopeError(None, None, f"build tool not found: {argv[0]}") from None
    except subprocess.TimeoutExpired:
        msg = f"build step timed out after {BUILD_TIMEOUT_S} s: {shlex.join(argv)}"
        raise StallscopeError(None, None, msg) from None
    sys.stderr.write(res.stdout)
    if res.returncode != 0:
        raise StallscopeError(None, None, f"build step failed with status {res.returncode}: {shlex.join(argv)}")
    return res.stdout


def _compiler_facts(cmake_dir: Path) -> dict[str, Any]:
    """Compiler path, version and the exact flags of one translation unit, from compile_commands.json."""
    facts: dict[str, Any] = {"compiler": None, "compiler_version": None, "flags": None}
    cc_json = cmake_dir / "compile_commands.json"
    if cc_json.exists():
        entries = json.loads(cc_json.read_text())
        if entries:
            cmd = entries[0].get("command") or shlex.join(entries[0].get("arguments", []))
            argv = shlex.split(cmd)
            facts["compiler"] = argv[0]
            facts["flags"] = [a for a in argv[1:] if a.startswith(("-O", "-W", "-std", "-D", "-f", "-g"))]
    if facts["compiler"]:
        try:
            out = subprocess.run([facts["compiler"], "--version"], capture_output=True, text=True, timeout=30)
            facts["compiler_version"] = out.stdout.splitlines()[0] if out.stdout else None
        except (OSError, subprocess.TimeoutExpired):
            pass
    return facts


def _build_reference(source: Path, out: Path, werror: bool) -> tuple[list[str], dict[str, Any]]:
    cmake_dir = out / "cmake"
    configure = ["cmake", "-S", str(source), "-B", str(cmake_dir), "-DCMAKE_BUILD_TYPE=Release",
                 "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON", f"-DSTALLSCOPE_WERROR={'ON' if werror else 'OFF'}"]
    _run(configure)
    _run(["cmake", "--build", str(cmake_dir), "-j", "2"])
    bin_dir = out / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    names = []
    for exe in sorted(cmake_dir.iterdir()):
        if exe.is_file() and exe.stat().st_mode & 0o111 and exe.name in (*REFERENCE_BINARIES, "refbroker-notimers",
                                                                         "rawsink"):
            shutil.copy2(exe, bin_dir / exe.name)
            names.append(exe.name)
    missing = sorted(set(REFERENCE_BINARIES) - set(names))
    if missing:
        raise StallscopeError(cmake_dir, None, f"build produced no {', '.join(missing)}")
    facts = _compiler_facts(cmake_dir)
    facts["command"] = shlex.join(configure)
    return names, facts


def _build_external(sut: dict[str, Any], source: Path, out: Path) -> tuple[list[str], dict[str, Any]]:
    bin_dir = out / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    commands = []
    for template in build_templates(sut):
        argv = fill_argv(template, {"build_dir": bin_dir.resolve(), "source": source}, {})
        _run(argv, cwd=source)
        commands.append(shlex.join(argv))
    names = list(sut.get("binaries") or [])
    for n in names:
        if not (bin_dir / n).is_file():
            raise StallscopeError(bin_dir / n, None, "binary named in sut.binaries was not built")
    return names, {"compiler": None, "compiler_version": None, "flags": None, "command": " && ".join(commands)}


def build_broker(config_path: Path, out_dir: Path, source: Path | None = None, werror: bool = False,
                 patches: list[str] | None = None, worktrees: Path = DEFAULT_CACHE) -> Path:
    """Build the configured broker into ``out_dir/bin`` and write ``out_dir/build.json``.

    ``patches`` (default: the config's ``sut.patches``) are applied in a worktree under ``worktrees`` first; the
    build then names the commit plus the patches' digest and records each patch's sha256.
    """
    cfg = load_config(config_path)
    sut = cfg["sut"]
    src = Path(source or sut["source"]).resolve()
    if not src.is_dir():
        raise StallscopeError(src, None, "broker source directory not found")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    facts = git_facts(src)
    pfacts = patch_facts(patch_paths(sut, baseline=False) if patches is None else patches)
    if pfacts:
        if facts["commit"] is None:
            raise StallscopeError(src, None, "sut.patches needs the source in a git repository with a commit")
        if facts["is_dirty"]:
            raise StallscopeError(src, None, "sut.patches: the source has uncommitted changes a patched build "
                                  "(a worktree at its commit) would leave out; commit them or make them a patch")
        src = patched_source(src, facts["commit"], pfacts, worktrees)
        facts = {**facts, "id": patched_id(facts["id"], pfacts), "patches": pfacts}
    if sut["kind"] == "reference":
        names, cfacts = _build_reference(src, out, werror)
    elif sut["kind"] == "embarcadero":
        from stallscope.experiment import embarcadero_build

        names, cfacts = embarcadero_build.build(sut, src, out)
        werror = False  # upstream's sources: their warnings are not ours to fail on
    else:
        names, cfacts = _build_external(sut, src, out)
    data = {
        "schema": "build/1",
        "sut": facts,
        "kind": sut["kind"],
        "bin_dir": str((out / "bin").resolve()),
        "binaries": {n: sha256_file(out / "bin" / n) for n in names},
        "compiler": cfacts["compiler"],
        "compiler_version": cfacts["compiler_version"],
        "flags": cfacts["flags"],
        "werror": werror,
        "command": cfacts["command"],
        "built_utc": utc_now(),
    }
    for key in ("build_wall_s", "jobs", "cpu_count", "stall_timers"):
        if key in cfacts:
            data[key] = cfacts[key]
    return schemas.write_json(out / "build.json", "build", data)
