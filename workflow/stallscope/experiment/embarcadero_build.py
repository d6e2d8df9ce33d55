"""Build the real Embarcadero broker offline from the user's checkout, never editing it.

Upstream's CMake fetches gRPC from the network and needs folly, which Debian lacks. The recipe is stallscope's
own (``workflow/embarcadero/``): a CMake shim that stands in for gRPC's source tree and provides the targets
upstream links from Debian's gRPC, protobuf and abseil; a static library of the four folly sources the broker
needs, from a folly source directory or tarball the config names; and forced includes for the abseil headers
upstream's newer protobuf brought in. The checkout is configured out of tree, into ``<out>/cmake``.

Reads the config and the checkout; writes ``<out>/bin/{embarlet,throughput_test}``, ``<out>/cmake``,
``<out>/folly-subset`` and ``<out>/build.json`` (with the build's measured wall time).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

from stallscope.errors import StallscopeError
from stallscope.shared.provenance import PACKAGE_ROOT

BINARIES = ["embarlet", "throughput_test"]
RECIPE_DIR = PACKAGE_ROOT / "workflow" / "embarcadero"
#: Debian packages the offline build needs (measured on Debian 12: gRPC 1.51, protobuf 3.21, abseil 20220623).
PACKAGES = [
    "cmake", "g++", "pkg-config", "libgrpc++-dev", "protobuf-compiler-grpc", "libprotobuf-dev", "protobuf-compiler",
    "libabsl-dev", "libgoogle-glog-dev", "libgflags-dev", "libmimalloc-dev", "libcxxopts-dev", "libyaml-cpp-dev",
    "libnuma-dev", "libboost-dev",
]
#: Headers upstream's sources use without including them (newer protobuf headers include them upstream).
FORCED_INCLUDES = [
    "absl/container/btree_map.h", "absl/container/btree_set.h", "absl/container/flat_hash_map.h",
    "absl/container/flat_hash_set.h", "absl/synchronization/mutex.h",
]
STEP_TIMEOUT_S = 3600


def missing_packages(packages: list[str] | None = None) -> list[str]:
    """The Debian packages of ``packages`` (default: :data:`PACKAGES`) that dpkg does not list as installed."""
    wanted = list(packages or PACKAGES)
    try:
        res = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n", *wanted],
                             capture_output=True, text=True, timeout=60, check=False)
    except FileNotFoundError:
        raise StallscopeError(None, None, "dpkg-query not found: the Embarcadero build recipe is for Debian "
                                          f"(it needs {' '.join(wanted)})") from None
    installed = set()
    for line in res.stdout.splitlines():
        name, _, status = line.partition(" ")
        if status.strip() == "installed":
            installed.add(name.split(":")[0])
    return [p for p in wanted if p not in installed]


def check_packages() -> None:
    """Stop with one line naming the ``apt-get install`` that fixes a missing build dependency."""
    missing = missing_packages()
    if missing:
        raise StallscopeError(None, None, f"the Embarcadero build needs Debian packages that are not installed: "
                                          f"{', '.join(missing)}; fix: apt-get install -y {' '.join(missing)}")


def folly_source(spec: str | Path, cache_root: Path) -> Path:
    """A folly source directory: ``spec`` itself, or a release tarball unpacked once under ``cache_root``.

    The unpacked tree is reused while the tarball's size and mtime are those it was unpacked from.
    """
    src = Path(spec).resolve()
    if src.is_dir():
        if not (src / "folly" / "MPMCQueue.h").is_file():
            raise StallscopeError(src, None, "not a folly source directory (no folly/MPMCQueue.h)")
        return src
    if not src.is_file():
        raise StallscopeError(src, None, "sut.folly: no such folly source directory or tarball")
    name = src.name
    for ext in (".tar.xz", ".tar.gz", ".tgz", ".tar"):
        if name.endswith(ext):
            name = name[: -len(ext)]
            break
    dest = cache_root / name
    stamp = dest / ".stallscope-unpacked"
    st = src.stat()
    key = f"{src} {st.st_size} {int(st.st_mtime)}\n"
    cache_root.mkdir(parents=True, exist_ok=True)
    # Two builds at once (a before/after builds both sides in parallel) share the unpacked tree: one unpacks, the
    # other waits for it, and neither removes a tree the other is reading.
    with open(cache_root / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.is_file() and stamp.read_text() == key:
            return _single_root(dest)
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        try:
            with tarfile.open(src) as tf:
                tf.extractall(dest, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise StallscopeError(src, None, f"cannot unpack folly tarball: {exc}") from None
        stamp.write_text(key)
        return _single_root(dest)


def _single_root(dest: Path) -> Path:
    """The folly tree inside an unpacked tarball (its top directory, or ``dest`` itself)."""
    if (dest / "folly" / "MPMCQueue.h").is_file():
        return dest
    tops = [p for p in dest.iterdir() if p.is_dir() and (p / "folly" / "MPMCQueue.h").is_file()]
    if len(tops) != 1:
        raise StallscopeError(dest, None, "the folly tarball holds no single folly source tree")
    return tops[0]


def _run(argv: list[str], log_prefix: str = "+ ") -> None:
    """Run one build step at low priority, its output into the job log; fail naming the step."""
    print(log_prefix + shlex.join(argv), file=sys.stderr, flush=True)
    try:
        res = subprocess.run(["nice", "-n", "10", *argv], stdout=sys.stderr, stderr=subprocess.STDOUT,
                             timeout=STEP_TIMEOUT_S, check=False)
    except FileNotFoundError:
        raise StallscopeError(None, None, f"build tool not found: {argv[0]}") from None
    except subprocess.TimeoutExpired:
        raise StallscopeError(None, None, f"build step timed out after {STEP_TIMEOUT_S} s: "
                                          f"{shlex.join(argv)}") from None
    if res.returncode != 0:
        raise StallscopeError(None, None, f"build step failed with status {res.returncode}: {shlex.join(argv)} "
                                          "(its output is in the build log)")


def configure_args(source: Path, cmake_dir: Path, folly_build: Path, folly_src: Path) -> list[str]:
    """Upstream's CMake configured offline, out of tree: the gRPC shim, the folly subset, forced includes."""
    includes = " ".join(f"-include {h}" for h in FORCED_INCLUDES)
    return [
        "cmake", "-S", str(source), "-B", str(cmake_dir), "-DCMAKE_BUILD_TYPE=Release",
        "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON", "-DBUILD_BENCHMARKS=OFF",
        f"-DFETCHCONTENT_SOURCE_DIR_GRPC={RECIPE_DIR / 'grpc-shim'}", "-DFETCHCONTENT_FULLY_DISCONNECTED=ON",
        f"-Dfolly_DIR={folly_build}", f"-DFOLLY_SOURCE_DIR={folly_src}",
        f"-DCMAKE_CXX_FLAGS_RELEASE=-O3 -DNDEBUG {includes}",
    ]


def build(sut: dict[str, Any], source: Path, out: Path) -> tuple[list[str], dict[str, Any]]:
    """Build ``embarlet`` and ``throughput_test`` into ``out/bin``; return their names and the build's facts."""
    check_packages()
    if not (source / "CMakeLists.txt").is_file() or not (source / "src" / "embarlet").is_dir():
        raise StallscopeError(source, None, "not an Embarcadero checkout (no CMakeLists.txt and src/embarlet)")
    if "folly" not in sut:
        raise StallscopeError(None, None, "at $.sut: kind embarcadero needs folly (a folly source directory or "
                                          "release tarball, e.g. folly-2024.03.11.00.tar.xz)")
    jobs = str(int(sut.get("build_jobs", 2)))
    t0 = time.monotonic()
    folly_src = folly_source(sut["folly"], (out.parent / "folly-src").resolve())
    folly_build = (out / "folly-subset").resolve()
    _run(["cmake", "-S", str(RECIPE_DIR / "folly-subset"), "-B", str(folly_build), "-DCMAKE_BUILD_TYPE=Release",
          f"-DFOLLY_SOURCE_DIR={folly_src}"])
    _run(["cmake", "--build", str(folly_build), "-j", jobs])
    cmake_dir = (out / "cmake").resolve()
    configure = configure_args(source, cmake_dir, folly_build, folly_src)
    _run(configure)
    _run(["cmake", "--build", str(cmake_dir), "--target", *BINARIES, "-j", jobs])
    wall_s = round(time.monotonic() - t0, 1)
    bin_dir = out / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in BINARIES:
        exe = cmake_dir / "bin" / name
        if not exe.is_file():
            raise StallscopeError(exe, None, "the build produced no such binary")
        shutil.copy2(exe, bin_dir / name)
    facts = _compiler_facts(cmake_dir)
    facts["command"] = shlex.join(configure)
    facts["build_wall_s"] = wall_s
    facts["jobs"] = int(jobs)
    facts["cpu_count"] = os.cpu_count()
    facts["stall_timers"] = "yes" if has_stall_timers(source) else "no"
    return list(BINARIES), facts


def has_stall_timers(source: Path) -> bool:
    """Whether the checkout's broker logs ``[STALL]`` recv timers (e56e7c0 to e405a8b did; 476d5e0 removed them)."""
    for f in (source / "src" / "network_manager").glob("*.cc"):
        with contextlib.suppress(OSError):
            if "[STALL] recv" in f.read_text(errors="replace"):
                return True
    return False


def _compiler_facts(cmake_dir: Path) -> dict[str, Any]:
    """Compiler, its version and the flags of embarlet.cc's compile command (from compile_commands.json)."""
    import json

    facts: dict[str, Any] = {"compiler": None, "compiler_version": None, "flags": None}
    cc_json = cmake_dir / "compile_commands.json"
    entries = json.loads(cc_json.read_text()) if cc_json.is_file() else []
    entry = next((e for e in entries if str(e.get("file", "")).endswith("embarlet/embarlet.cc")), None)
    if entry is None and entries:
        entry = entries[0]
    if entry is None:
        return facts
    argv = shlex.split(entry.get("command") or shlex.join(entry.get("arguments", [])))
    facts["compiler"] = argv[0]
    flags: list[str] = []
    for i, a in enumerate(argv[1:], start=1):
        if a.startswith(("-O", "-W", "-std", "-D", "-f", "-g", "-m")):
            flags.append(a)
        elif a == "-include" and i + 1 < len(argv):
            flags.append(f"-include {argv[i + 1]}")
    facts["flags"] = flags
    try:
        out = subprocess.run([argv[0], "--version"], capture_output=True, text=True, timeout=30, check=False)
        facts["compiler_version"] = out.stdout.splitlines()[0] if out.stdout else None
    except (OSError, subprocess.TimeoutExpired):
        pass
    return facts
