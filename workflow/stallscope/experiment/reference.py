"""The adapter for ``sut.kind: reference``: the stand-in broker and publisher of ``workflow/broker/`` (DESIGN
section 5), built with CMake and run by the same templates a user writes for an external broker (``external.py``).
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

from stallscope.errors import StallscopeError
from stallscope.experiment.buildstep import run_step
from stallscope.experiment.commands import REFERENCE_BINARIES, REFERENCE_BROKER, REFERENCE_CLIENT
from stallscope.experiment.external import ExternalAdapter

#: built beside the broker and publisher for the benchmarks (``bench.py``): the broker without its stall timers,
#: and a raw sink (the same handshake, batches and ACKs; no ring, no timers)
BENCH_BINARIES = ("refbroker-notimers", "rawsink")


class ReferenceAdapter(ExternalAdapter):
    """The reference broker: compiled-in fault knobs, ``[STALL]`` timers, and extra lines real builds lack."""

    kind = "reference"
    dialect = "glog"
    evidence: tuple[str, ...] = (*ExternalAdapter.evidence, "stall_timers", "phase_markers", "tcp_info",
                                 "send_stats", "broker_metrics", "fault_knobs")

    def templates(self, sut: dict[str, Any]) -> tuple[list[str], list[str]]:
        return list(REFERENCE_BROKER), list(REFERENCE_CLIENT)

    def build(self, sut: dict[str, Any], source: Path, out: Path, werror: bool) -> tuple[list[str], dict[str, Any]]:
        """CMake, Release, into ``out/cmake``; the binaries copied to ``out/bin``."""
        cmake_dir = out / "cmake"
        configure = ["cmake", "-S", str(source), "-B", str(cmake_dir), "-DCMAKE_BUILD_TYPE=Release",
                     "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON", f"-DSTALLSCOPE_WERROR={'ON' if werror else 'OFF'}"]
        run_step(configure)
        run_step(["cmake", "--build", str(cmake_dir), "-j", "2"])
        bin_dir = out / "bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        names = []
        for exe in sorted(cmake_dir.iterdir()):
            if exe.is_file() and exe.stat().st_mode & 0o111 and exe.name in (*REFERENCE_BINARIES, *BENCH_BINARIES):
                shutil.copy2(exe, bin_dir / exe.name)
                names.append(exe.name)
        missing = sorted(set(REFERENCE_BINARIES) - set(names))
        if missing:
            raise StallscopeError(cmake_dir, None, f"build produced no {', '.join(missing)}")
        facts = _compiler_facts(cmake_dir)
        facts["command"] = shlex.join(configure)
        return names, facts


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


REFERENCE = ReferenceAdapter()
