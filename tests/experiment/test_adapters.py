"""The SUT adapters: one per ``sut.kind`` the config admits, each filling in the one interface (adapter.py)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.experiment import suts
from stallscope.experiment.adapter import SutAdapter, SutRun
from stallscope.experiment.commands import REFERENCE_BROKER, REFERENCE_CLIENT
from stallscope.experiment.embarcadero import EmbarcaderoRun
from stallscope.experiment.external import TemplateRun

BUILD = {"bin_dir": "/nonexistent/bin", "sut": {"source": "/nonexistent/src"}}
RUN_CFG = schemas.config_defaults("run")


def _scn(**extra: object) -> dict:
    params = {"brokers": 2, "threads_per_broker": 1, "message_size": 1024, "total_bytes": 1 << 20, "order": 0,
              "ack_level": 1, "ack_timeout_s": 10, "stall_threshold_ms": 50, "batch_bytes": 1 << 20}
    return {"name": "s", "params": params, "faults": {}, "embarcadero": {}, **extra}


def test_every_kind_the_config_admits_has_one_adapter() -> None:
    kinds = schemas.load_schema("config.schema.yaml")["properties"]["sut"]["properties"]["kind"]["enum"]
    assert sorted(suts.ADAPTERS) == sorted(kinds)
    for kind, adapter in suts.ADAPTERS.items():
        assert isinstance(adapter, SutAdapter) and adapter.kind == kind
        assert adapter.dialect and adapter.evidence, kind
        assert suts.for_kind(kind) is adapter
        abstract = getattr(type(adapter), "__abstractmethods__", frozenset())
        assert not abstract, f"{kind} leaves {sorted(abstract)} undone"
    with pytest.raises(StallscopeError, match="no adapter"):
        suts.for_kind("kafka")


def test_each_adapter_makes_a_run_that_fills_in_the_interface(tmp_path: Path) -> None:
    sut_cfgs = {"reference": {"kind": "reference"},
                "external": {"kind": "external", "broker_command": ["{bin_dir}/b", "--port", "{port}"],
                             "client_command": ["{bin_dir}/c", "-b", "{brokers}"]},
                "embarcadero": {"kind": "embarcadero"}}
    for kind, adapter in suts.ADAPTERS.items():
        run = adapter.new_run(tmp_path / kind, _scn(), sut_cfgs[kind], BUILD, RUN_CFG, Path("c.yaml"))
        assert isinstance(run, SutRun) and not inspect.isabstract(type(run))
        assert run.placement.kind == "loopback" and len(run.placement.brokers) == 2
        assert run.client_timeout_s() > 10
    ref = suts.for_kind("reference").new_run(tmp_path, _scn(), sut_cfgs["reference"], BUILD, RUN_CFG, Path("c"))
    assert isinstance(ref, TemplateRun) and (ref.broker_t, ref.client_t) == (REFERENCE_BROKER, REFERENCE_CLIENT)
    emb = suts.for_kind("embarcadero").new_run(Path("rel"), _scn(), {}, BUILD, RUN_CFG, Path("c"))
    assert isinstance(emb, EmbarcaderoRun) and emb.out.is_absolute()  # its processes run inside it


def test_external_broker_that_cannot_be_told_its_address_is_refused_on_emulated_hosts(tmp_path: Path) -> None:
    sut = {"kind": "external", "broker_command": ["{bin_dir}/b", "--port", "{port}"],
           "client_command": ["{bin_dir}/c", "-b", "{brokers}"]}
    scn = _scn(network={"link_rate_mbit": 100})
    with pytest.raises(StallscopeError, match="neither {bind_addr} nor {broker_net_args}"):
        suts.for_kind("external").new_run(tmp_path, scn, sut, BUILD, RUN_CFG, Path("c.yaml"))


def test_werror_applies_to_our_sources_only() -> None:
    assert suts.for_kind("reference").honours_werror and not suts.for_kind("embarcadero").honours_werror
