"""The seed's diagnostic patch (tests/fixtures/embarcadero/stall-timers.patch) against the real broker's source.

The patch adds 50 ms `[STALL]` timers around the three blocking receives of Embarcadero's publish path and nothing
else. These tests apply it to a clone of ``../shared/sut/embarcadero.bundle`` (skipped when absent), check that it
only adds lines, that each timer wraps a ``recv``, that the patched file still compiles (syntax only, with the
generated protobuf headers and folly's headers; skipped without protoc or the folly tarball), and that the lines it
would write are read by stallscope's parser as stalls of the right kind at the patched file's sites.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from stallscope.logs.catalogue import load_catalogue
from stallscope.logs.glog import FileScanner

try:
    from tests.builders.logs import glog
except ImportError:  # tests/ has no __init__.py: pytest puts tests/ itself on sys.path
    from builders.logs import glog  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parents[2]
PATCH = REPO / "tests" / "fixtures" / "embarcadero" / "stall-timers.patch"
SUT_DIR = next((p / "shared" / "sut" for p in Path(__file__).resolve().parents[2:5]
                if (p / "shared" / "sut" / "embarcadero.bundle").is_file()), None)
TARGET = "src/network_manager/network_manager.cc"
ABSL_FORCED = ["absl/container/btree_map.h", "absl/container/btree_set.h", "absl/container/flat_hash_map.h",
               "absl/container/flat_hash_set.h", "absl/synchronization/mutex.h"]


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=120).stdout


@pytest.fixture(scope="module")
def patched(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of the bundle's HEAD with the patch applied (skip without ../shared/sut)."""
    if SUT_DIR is None:
        pytest.skip("../shared/sut/embarcadero.bundle not found")
    src = tmp_path_factory.mktemp("emb") / "src"
    subprocess.run(["git", "clone", "-q", str(SUT_DIR / "embarcadero.bundle"), str(src)], check=True, timeout=300)
    _git(src, "apply", "--check", str(PATCH))
    _git(src, "apply", str(PATCH))
    return src


def test_stall_patch_touches_one_file_and_only_adds_lines(patched: Path) -> None:
    numstat = _git(patched, "diff", "--numstat").split()
    assert numstat[2:] == [TARGET], numstat
    added, deleted = int(numstat[0]), int(numstat[1])
    assert deleted == 0 and added > 0


def test_stall_patch_each_timer_wraps_a_recv(patched: Path) -> None:
    lines = (patched / TARGET).read_text().splitlines()
    timer = re.compile(r"auto \w+_t0 = std::chrono::steady_clock::now\(\);")
    starts = [i for i, line in enumerate(lines) if timer.search(line)]
    assert len(starts) == 3
    for i in starts:
        assert re.search(r"\brecv\(client_socket,", lines[i + 1]), lines[i + 1]
    threshold = [line for line in lines if "kRecvStallThresholdUs =" in line]
    assert threshold == ["static constexpr int64_t kRecvStallThresholdUs = 50 * 1000;"]


def _stall_statements(text: str) -> list[tuple[int, str]]:
    """(1-based line of the LOG, the whole ``<<`` chain) of every [STALL] LOG(WARNING) in the file."""
    out = []
    for m in re.finditer(r"LOG\(WARNING\)(\s*<<\s*\"\[STALL\][^\"]*\"(?:[^;\"]|\"[^\"]*\")*);", text):
        out.append((text.count("\n", 0, m.start()) + 1, m.group(1)))
    return out


def _render(chain: str, values: dict[str, int]) -> str:
    """What a ``<< "lit" << expr ...`` chain prints, each expression looked up in ``values``."""
    parts = [p.strip() for p in re.split(r"<<(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", chain) if p.strip()]
    out = []
    for p in parts:
        if p.startswith('"'):
            out.append(p[1:-1])
        else:
            out.append(str(values[p]))
    return "".join(out)


def test_stall_patch_lines_parse_as_stalls_at_their_sites(patched: Path, tmp_path: Path) -> None:
    text = (patched / TARGET).read_text()
    stmts = _stall_statements(text)
    assert len(stmts) == 3
    values = {"(hdr_us / 1000)": 57, "handshake.client_id": 115999, "bytes_read": 128,
              "(part_us / 1000)": 61, "recv_ret": 64,
              "(payload_us / 1000)": 1203, "batch_header.batch_seq": 41, "to_read": 524288, "n": 3}
    log = tmp_path / "broker_0.log"
    log.write_text("".join(glog(_render(chain, values), sev="W", src=f"network_manager.cc:{line}") + "\n"
                           for line, chain in stmts), encoding="utf-8")
    events = list(FileScanner(log, "broker", load_catalogue()))
    got = [(e.kind, e.src, e.fields["duration_ms"]) for e in events]
    assert got == [("stall_header", f"network_manager.cc:{stmts[0][0]}", 57),
                   ("stall_partial", f"network_manager.cc:{stmts[1][0]}", 61),
                   ("stall_payload", f"network_manager.cc:{stmts[2][0]}", 1203)]
    assert events[0].fields["bytes_read"] == 128 and events[1].fields["recv_ret"] == 64
    assert (events[2].fields["batch_seq"], events[2].fields["remaining"]) == (41, 524288)


def test_stall_patch_file_compiles(patched: Path, tmp_path: Path) -> None:
    tools = [shutil.which(t) for t in ("protoc", "grpc_cpp_plugin", "g++")]
    folly = SUT_DIR / "folly-2024.03.11.00.tar.xz" if SUT_DIR else None
    if not all(tools) or folly is None or not folly.is_file():
        pytest.skip("protoc, grpc_cpp_plugin, g++ and the folly tarball are needed")
    gen = tmp_path / "gen"
    (gen / "common").mkdir(parents=True)
    protos = sorted(str(p) for p in (patched / "src" / "protobuf").glob("*.proto"))
    proto_dir = str(patched / "src" / "protobuf")
    subprocess.run([tools[0], "-I", proto_dir, f"--cpp_out={gen}", f"--grpc_out={gen}",
                    f"--plugin=protoc-gen-grpc={tools[1]}", *protos], check=True, timeout=120)
    cfg_in = (patched / "src" / "common" / "config.h.in").read_text()
    cfg = re.sub(r"#cmakedefine01 (\w+)", r"#define \1 0", cfg_in.replace("@PROJECT_SOURCE_DIR@", str(patched)))
    (gen / "common" / "config.h").write_text(cfg)
    with tarfile.open(folly) as tf:
        members = [m for m in tf.getmembers() if "/folly/" in m.name and m.name.endswith(".h")]
        tf.extractall(tmp_path / "folly", members=members, filter="data")
    folly_root = next((tmp_path / "folly").iterdir())
    (gen / "folly").mkdir()
    (gen / "folly" / "folly-config.h").write_text("")
    forced = [a for h in ABSL_FORCED for a in ("-include", h)]
    res = subprocess.run([tools[2], "-fsyntax-only", "-std=c++17", "-I", str(patched / "src"), "-I", str(gen),
                          "-I", str(folly_root), *forced, str(patched / TARGET)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
