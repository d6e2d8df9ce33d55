"""Input vetting: only regular files inside the input are read; everything refused is noted, gaps too."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.logs.ingest import ingest_dir
from stallscope.logs.vetting import numbering_gap, vet_source
from stallscope.outlock import OutputBusy, output_lock
from tests.builders.logs import glog

LINE = glog("[STALL] recv batch header blocked 120ms client_id=1 bytes_read=0", sev="W") + "\n"


def _logs(d: Path, brokers: tuple[int, ...] = (0, 1)) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    for i in brokers:
        (d / f"broker_{i}.log").write_text(LINE)
    (d / "client.log").write_text(glog("Publisher connected") + "\n")
    return d


def test_a_symlink_out_of_the_input_is_refused_and_not_copied(tmp_path: Path) -> None:
    src = _logs(tmp_path / "in", (1,))
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0\n")
    (src / "broker_0.log").symlink_to(secret)
    out = ingest_dir(src, tmp_path / "run")
    assert not (out / "broker_0.log").exists()
    assert all("root:x" not in p.read_text() for p in out.iterdir() if p.is_file())
    notes = schemas.read_json(out / "manifest.json", "manifest")["notes"]
    assert any("broker_0.log" in n and "leaving the input directory" in n for n in notes), notes


def test_a_symlink_inside_the_input_is_read(tmp_path: Path) -> None:
    src = _logs(tmp_path / "in", (0,))
    (src / "raw").mkdir()
    (src / "raw" / "b1.txt").write_text(LINE)
    (src / "broker_1.log").symlink_to("raw/b1.txt")
    out = ingest_dir(src, tmp_path / "run")
    assert (out / "broker_1.log").read_text() == LINE
    assert not (out / "broker_1.log").is_symlink()


@pytest.mark.parametrize("kind", ["fifo", "dangling", "device", "directory"])
def test_non_regular_logs_are_refused_with_a_note_and_never_opened(tmp_path: Path, kind: str) -> None:
    src = _logs(tmp_path / "in", (0,))
    bad = src / "broker_1.log"
    if kind == "fifo":
        os.mkfifo(bad)
    elif kind == "dangling":
        bad.symlink_to(src / "nowhere.log")
    elif kind == "device":
        (src / "dev").symlink_to("/dev")  # a link to /dev/zero must not be read even via a link inside
        bad.symlink_to("/dev/zero")
    else:
        bad.mkdir()
    done: list[Path] = []
    t = threading.Thread(target=lambda: done.append(ingest_dir(src, tmp_path / "run")), daemon=True)
    t.start()
    t.join(30)
    assert done, "ingest hung on a non-regular file"
    notes = schemas.read_json(done[0] / "manifest.json", "manifest")["notes"]
    assert any(n.startswith("'broker_1.log' refused") for n in notes), notes
    assert not (done[0] / "broker_1.log").exists()


def test_gaps_and_huge_indices_in_broker_numbering_are_noted(tmp_path: Path) -> None:
    src = _logs(tmp_path / "in", (0, 1, 2, 3, 17))
    (src / ("broker_" + "9" * 30 + ".log")).write_text(LINE)
    found = vet_source(src)
    assert [i for i, _ in found.brokers] == [0, 1, 2, 3, 17]
    assert any("broker index beyond" in n for n in found.notes)
    gap = next(n for n in found.notes if "gaps" in n)
    assert "no log for 4, 5, 6, 7, 8, 9, 10, 11 and 5 more" in gap
    assert numbering_gap([0, 1, 2]) is None


def test_duplicate_broker_indices_keep_the_first(tmp_path: Path) -> None:
    src = _logs(tmp_path / "in", (0,))
    (src / "broker0.log").write_text("other\n")
    found = vet_source(src)
    assert len(found.brokers) == 1
    assert any("already" in n for n in found.notes)


def test_names_with_a_trailing_newline_are_not_logs_by_accident(tmp_path: Path) -> None:
    src = _logs(tmp_path / "in", (0,))
    (src / "broker_1.log\n").write_text(LINE)
    assert [i for i, _ in vet_source(src).brokers] == [0]


@pytest.mark.parametrize("src", ["/dev/null", "/dev/zero"])
def test_a_device_as_input_is_one_clear_error(src: str, tmp_path: Path) -> None:
    with pytest.raises(StallscopeError, match="character device"):
        ingest_dir(Path(src), tmp_path / "run")


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "stallscope"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120, cwd=cwd)


@pytest.mark.parametrize("case", ["file", "foreign_dir", "unwritable", "device_input"])
def test_assess_logs_bad_outputs_and_inputs_are_one_line_exit_1(tmp_path: Path, case: str) -> None:
    src = _logs(tmp_path / "in")
    out = tmp_path / "out"
    if case == "file":
        out.write_text("precious\n")
    elif case == "foreign_dir":
        out.mkdir()
        (out / "thesis.tex").write_text("precious\n")
    elif case == "unwritable":
        out = Path("/proc/1/nothere/out")
    else:
        src = Path("/dev/null")
    res = _cli("assess-logs", str(src), "-o", str(out), cwd=tmp_path)
    assert res.returncode == 1, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr, res.stderr
    if case in ("file", "foreign_dir"):
        assert "precious" in (out.read_text() if out.is_file() else (out / "thesis.tex").read_text())


def test_assess_logs_writes_whole_outputs_and_replaces_its_own(tmp_path: Path) -> None:
    a, b = _logs(tmp_path / "a", (0,)), _logs(tmp_path / "b", (0, 1, 2))
    out = tmp_path / "out"
    assert _cli("assess-logs", str(a), "-o", str(out), cwd=tmp_path).returncode == 0
    res = _cli("assess-logs", str(b), "-o", str(out), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (out / "run").glob("broker_*.log")) == ["broker_0.log", "broker_1.log",
                                                                       "broker_2.log"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []  # no temp dir, no lock left
    assert schemas.read_json(out / "claims.json", "claims")["runs"][0]["dir"] == "run"


def test_a_second_writer_into_the_same_output_is_refused(tmp_path: Path) -> None:
    src = _logs(tmp_path / "in")
    out = tmp_path / "out"
    with output_lock(out):
        res = _cli("assess-logs", str(src), "-o", str(out), cwd=tmp_path)
        with pytest.raises(OutputBusy):
            with output_lock(out):
                pass
    assert res.returncode == 4, res.stderr
    assert "in use by another stallscope process" in res.stderr and "Traceback" not in res.stderr
    assert not out.exists()


def test_concurrent_assess_logs_leave_one_whole_output(tmp_path: Path) -> None:
    """Two writers at once: each either finishes or is refused (exit 4); the output is one input's, whole."""
    a, b = _logs(tmp_path / "a", (0,)), _logs(tmp_path / "b", (0, 1, 2))
    (a / "broker_0.log").write_text(LINE * 3)
    out = tmp_path / "out"
    exe = Path(sys.executable).parent / "stallscope"
    procs = [subprocess.Popen([str(exe), "assess-logs", str(s), "-o", str(out)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=tmp_path) for s in (a, b)]
    codes = [p.wait(timeout=300) for p in procs]
    assert sorted(codes) in ([0, 0], [0, 4]), [p.stderr.read() for p in procs]
    brokers = sorted(p.name for p in (out / "run").glob("broker_*.log"))
    if brokers == ["broker_0.log"]:
        assert (out / "run" / "broker_0.log").read_text() == LINE * 3
    else:
        assert brokers == ["broker_0.log", "broker_1.log", "broker_2.log"]
        assert (out / "run" / "broker_0.log").read_text() == LINE


@pytest.mark.parametrize("kind", ["fifo", "link_out"])
def test_parse_of_a_hand_made_run_directory_refuses_what_it_must_not_read(tmp_path: Path, kind: str) -> None:
    from stallscope.logs.parse import parse_run

    run = _logs(tmp_path / "run", (0,))
    if kind == "fifo":
        os.mkfifo(run / "broker_1.log")
    else:
        (tmp_path / "secret.txt").write_text("root:x:0:0\n")
        (run / "broker_1.log").symlink_to(tmp_path / "secret.txt")
    done: list[BaseException | None] = []

    def go() -> None:
        try:
            parse_run(run)
            done.append(None)
        except BaseException as exc:
            done.append(exc)
    t = threading.Thread(target=go, daemon=True)
    t.start()
    t.join(30)
    assert done, "parse hung"
    assert isinstance(done[0], StallscopeError) and "broker_1.log: refused" in str(done[0])


def test_refusals_and_gaps_are_on_the_reports_first_page(tmp_path: Path) -> None:
    src = _logs(tmp_path / "in", (0, 2))
    os.mkfifo(src / "client_<b>x<%2Fb>.log")
    res = _cli("assess-logs", str(src), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    html = (tmp_path / "out" / "assessment.html").read_text()
    summary = html[html.index('id="answer"'):html.index('<section id="claims"')]  # the report's page 1
    assert "broker numbering has gaps" in summary and "no log for 1" in summary
    assert "refused: a FIFO" in summary and "&lt;b&gt;x" in summary and "<b>x" not in summary
