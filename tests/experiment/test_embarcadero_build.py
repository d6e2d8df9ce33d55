"""The real broker's build recipe without compiling: the folly tarball unpacked once, shared by builds at once."""

from __future__ import annotations

import random
import tarfile
import threading
from pathlib import Path

from stallscope.experiment.embarcadero_build import folly_source


def _tarball(tmp_path: Path, files: int) -> Path:
    """A folly-shaped release tarball (a top directory holding folly/MPMCQueue.h and filler files)."""
    top = tmp_path / "mk" / "folly-x"
    (top / "folly").mkdir(parents=True)
    (top / "folly" / "MPMCQueue.h").write_text("// queue\n")
    for i in range(files):
        (top / "folly" / f"f{i}.h").write_text("x" * 4096)
    tar = tmp_path / "folly-x.tar.gz"
    with tarfile.open(tar, "w:gz") as tf:
        tf.add(top, arcname="folly-x")
    return tar


def test_builds_at_once_share_one_unpacked_folly_tree(tmp_path: Path) -> None:
    """A before/after builds both sides in parallel: seen failing when one build removed the tree the other was
    configuring from. Every caller gets the complete tree, unpacked once."""
    tar = _tarball(tmp_path, random.randint(200, 600))
    cache = tmp_path / "cache"
    got: list[Path] = []
    errors: list[BaseException] = []

    def call() -> None:
        try:
            root = folly_source(tar, cache)
            assert (root / "folly" / "MPMCQueue.h").is_file()
            got.append(root)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(random.randint(3, 6))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and len(got) == len(threads), errors
    assert len(set(got)) == 1 and len(list((got[0] / "folly").iterdir())) > 200
    stamp = got[0].parent / ".stallscope-unpacked"
    before = stamp.stat().st_mtime_ns
    assert folly_source(tar, cache) == got[0] and stamp.stat().st_mtime_ns == before  # reused, not unpacked again
