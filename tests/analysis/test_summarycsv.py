"""The real Embarcadero client's summary CSV, read beside its log: figures, bad cells as null, no file as None."""

from __future__ import annotations

import random
from pathlib import Path

from stallscope.analysis.summarycsv import NAME, read_summary
from stallscope.render.viewmodel import resources_text

HEAD = ("message_size_bytes,total_message_size_bytes,message_count,num_threads_per_broker,ack_level,order,"
        "replication_factor,sequencer,publish_goodput_mbps,e2e_goodput_mbps\n")


def test_summary_reads_the_last_row(tmp_path: Path) -> None:
    rng = random.Random()
    pub, e2e = round(rng.uniform(1, 5000), 3), round(rng.uniform(1, 5000), 3)
    (tmp_path / NAME).write_text(HEAD + "1024,10485760,10240,1,1,0,0,EMBARCADERO,1.0,2.0\n"
                                 + f"1024,10737418240,10485760,1,1,5,0,EMBARCADERO,{pub},{e2e}\n")
    s = read_summary(tmp_path)
    assert s is not None and s["rows"] == 2 and s["error"] is None
    assert (s["message_count"], s["order"], s["publish_goodput_mb_s"], s["e2e_goodput_mb_s"]) == (10485760, 5, pub, e2e)


def test_summary_bad_cells_are_null_and_no_file_is_none(tmp_path: Path) -> None:
    assert read_summary(tmp_path) is None
    (tmp_path / NAME).write_text(HEAD + "x,1e400,nan,,1,0,0,EMBARCADERO,nan,inf\n")
    s = read_summary(tmp_path)
    assert s is not None and s["message_size_bytes"] is None and s["message_count"] is None
    assert s["publish_goodput_mb_s"] is None and s["e2e_goodput_mb_s"] is None
    (tmp_path / NAME).write_text(HEAD)
    assert read_summary(tmp_path)["error"] == "no data row"  # type: ignore[index]


def test_resources_text_names_each_process_shm_and_build() -> None:
    text = resources_text({"peak_rss_kb": {"client": 1078628, "broker_0": 43252}, "shm_bytes_at_end": 53268480,
                           "build_wall_s": 317.0, "build_jobs": 2})
    assert text == ("peak memory: broker_0 42 MB, client 1,053 MB; shm object 51 MB at the end; build 317 s (2 jobs)")
    assert resources_text(None) == ""
