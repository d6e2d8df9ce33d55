"""Fuzz the parser and metrics with hostile bytes: nothing may escape, truncation must be reported."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stallscope import schemas
from stallscope.analysis.metrics import compute_metrics
from stallscope.logs.parse import parse_run

try:
    from tests.builders.logs import glog, make_run_dir
except ImportError:  # tests/ has no __init__.py: pytest puts tests/ itself on sys.path
    from builders.logs import glog, make_run_dir  # type: ignore[no-redef]

PIECES = st.sampled_from([
    glog("[STALL] recv batch header blocked 57ms client_id=1 bytes_read=0").encode(),
    glog("Waiting for acknowledgments, received 1 out of 2 (elapsed: 1s) [B0=1]").encode(),
    b"===== Publish Throughput Test =====", b"\t  Message size: x bytes", b"\x00\x00", b"\xff\xfe", b"",
    "✓ done".encode(), b"I20260202 99:99:99.000000 1 a.cc:1] odd",
])
BODY = st.lists(st.one_of(PIECES, st.binary(max_size=40)), max_size=12).map(lambda xs: b"\n".join(xs))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(client=BODY, broker=BODY, tail=st.booleans())
def test_parse_random_bytes_never_raises(tmp_path_factory, client: bytes, broker: bytes, tail: bool) -> None:
    run = make_run_dir(tmp_path_factory.mktemp("fz"), client_lines=[], broker_lines={0: []})
    (run / "client.log").write_bytes(client + (b"\n" if tail else b""))
    (run / "broker_0.log").write_bytes(broker)
    parse_run(run)
    m = schemas.read_json(compute_metrics(run), "metrics")
    for st_ in m["lines"].values():
        assert sum(st_[k] for k in ("event", "glog", "continuation", "script", "unparseable", "unreadable")) == \
            st_["total"]
    truncated = (broker and not broker.endswith(b"\n")) or (client and not tail and not client.endswith(b"\n"))
    assert m["is_truncated"] == bool(truncated)


def test_parse_one_megabyte_line_counts_once(tmp_path: Path) -> None:
    run = make_run_dir(tmp_path, client_lines=[glog("x" * (1 << 20)), "tail"])
    parse_run(run)
    st_ = schemas.read_json(run / "lines.json", "lines")["files"]["client.log"]
    assert (st_["total"], st_["glog"], st_["continuation"]) == (2, 1, 1)
