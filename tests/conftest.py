"""Shared fixtures: one reference build per session, and the real Embarcadero logs (copied first, so the
fixture folders are never written to).

STALLSCOPE_BUILD_JSON (a build.json of `stallscope build`) reuses an existing build, as `make test` does.
Tests marked `long` run only with --run-long, those marked `slurm` only with --run-slurm, those marked
`embarcadero` (the real broker built and run) only with --run-embarcadero, those marked `quiet` (a measurement
that needs the machine to itself and has not yet held on 2 cores) only with --run-quiet. --run-exhaustive
draws the hostile-input properties at their full counts (thousands of examples, a quarter of an hour); --run-long
draws a few hundred, the default a few dozen.
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# STALLSCOPE_FIXTURES points elsewhere; else ../shared next to the checkout, or further up for a worktree.
FIXTURES = Path(os.environ.get("STALLSCOPE_FIXTURES") or next(
    (p / "shared" / "fixtures" / "embarcadero" for p in Path(__file__).resolve().parents[1:4]
     if (p / "shared" / "fixtures" / "embarcadero").is_dir()),
    Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "embarcadero"))

# The real broker's source and one run's logs (../shared/sut): STALLSCOPE_SHARED_SUT points elsewhere.
SHARED_SUT = Path(os.environ.get("STALLSCOPE_SHARED_SUT") or next(
    (p / "shared" / "sut" for p in Path(__file__).resolve().parents[1:4] if (p / "shared" / "sut").is_dir()),
    Path(__file__).resolve().parents[1].parent / "shared" / "sut"))


# A test run started in the background of a non-interactive shell inherits SIGINT ignored, and so would every
# Snakemake the ^C tests start (an ignored signal survives exec): they would wait for an interrupt that never
# comes. A handler (unlike "ignore") is reset to the default in a child, so the children see ^C as at a terminal.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def embarcadero(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of ../shared/fixtures/embarcadero (skip when absent)."""
    if not FIXTURES.is_dir():
        pytest.skip(f"real-log fixtures not found at {FIXTURES}")
    dst = tmp_path_factory.mktemp("embarcadero") / "embarcadero"
    shutil.copytree(FIXTURES, dst)
    return dst


@pytest.fixture(scope="session")
def shared_sut() -> Path:
    """../shared/sut: the Embarcadero bundle, folly's tarball, one real run's logs (skip when absent)."""
    if not (SHARED_SUT / "embarcadero.bundle").is_file():
        pytest.skip(f"the real broker's material not found at {SHARED_SUT}")
    return SHARED_SUT


@pytest.fixture
def head_sample(shared_sut: Path, tmp_path: Path) -> Path:
    """A private copy of ../shared/sut/sample-run-head (one 10 MB e2e run of the bundle's HEAD)."""
    dst = tmp_path / "sample-run-head"
    shutil.copytree(shared_sut / "sample-run-head", dst)
    for p in dst.iterdir():
        p.chmod(0o644)
    dst.chmod(0o755)
    return dst


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-long", action="store_true", help="also run tests marked long (the full scenarios)")
    parser.addoption("--run-slurm", action="store_true",
                     help="also run tests marked slurm (needs a cluster: `.ci/slurm.sh up`)")
    parser.addoption("--run-embarcadero", action="store_true",
                     help="also run tests marked embarcadero (build the real broker from ../shared/sut, run it)")
    parser.addoption("--run-quiet", action="store_true",
                     help="also run tests marked quiet (measurements that need quiet cores; not in CI)")
    parser.addoption("--run-exhaustive", action="store_true",
                     help="hostile-input properties at their full example counts (about 15 minutes; not in CI)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skips = {}
    if not config.getoption("--run-long"):
        skips["long"] = pytest.mark.skip(reason="long: run with --run-long (CI runs them once)")
    if not config.getoption("--run-embarcadero"):
        skips["embarcadero"] = pytest.mark.skip(reason="embarcadero: run with --run-embarcadero (CI runs them once)")
    if not config.getoption("--run-quiet"):
        skips["quiet"] = pytest.mark.skip(reason="quiet: run with --run-quiet on a machine of its own (not in CI)")
    for item in items:
        for marker, skip in skips.items():
            if marker in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def ref_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """build.json of a reference build with warnings as errors (built once per session unless given)."""
    given = os.environ.get("STALLSCOPE_BUILD_JSON")
    if given:
        return Path(given)
    if not (shutil.which("cmake") and (shutil.which("c++") or shutil.which("g++"))):
        pytest.skip("cmake and a C++ compiler are needed to build the reference broker")
    from stallscope.experiment.build import build_broker

    out = tmp_path_factory.mktemp("build")
    return build_broker(REPO / "config" / "config.yaml", out, source=REPO / "workflow" / "broker", werror=True)


@pytest.fixture(scope="session")
def bin_dir(ref_build: Path) -> Path:
    """The reference binaries (refbroker, refbroker-notimers, refpub, rawsink)."""
    return ref_build.parent / "bin"
