from __future__ import annotations

import pytest

from stallscope.errors import StallscopeError
from stallscope.experiment.commands import (
    CLIENT_PLACEHOLDERS,
    REFERENCE_BROKER,
    broker_fault_args,
    check_template,
    client_fault_args,
    fill_argv,
)


def test_fill_argv_value_with_spaces_and_semicolon_stays_one_argument() -> None:
    argv = fill_argv(["x", "--ready-file", "{ready_file}"], {"ready_file": "/tmp/a b; rm -rf /"}, {})
    assert argv == ["x", "--ready-file", "/tmp/a b; rm -rf /"]


def test_fill_argv_fault_expansion_adds_flags_in_place() -> None:
    argv = fill_argv(REFERENCE_BROKER, {"bin_dir": "/b", "broker_id": 2, "port": 5, "ready_file": "/r",
                                     "stall_threshold_ms": 50},
                  {"{broker_fault_args}": broker_fault_args({"ack_stall_after": 10, "ack_stall_broker": 2}, 2)})
    assert argv[0] == "/b/refbroker" and argv[-2:] == ["--ack-stall-after", "10"]


def test_broker_fault_args_ack_stall_only_on_chosen_broker() -> None:
    faults = {"ack_stall_after": 10, "ack_stall_broker": 2, "ring_slots": 2}
    assert "--ack-stall-after" not in broker_fault_args(faults, 1)
    assert broker_fault_args(faults, 1) == ["--ring-slots", "2"]


def test_client_fault_args_boolean_knob_is_a_bare_flag() -> None:
    assert client_fault_args({"close_mid_header": True, "linger_sec": 4}) == ["--linger-sec", "4", "--close-mid-header"]
    assert client_fault_args({"close_mid_header": False}) == []


@pytest.mark.parametrize("elem", ["{bin_dir.__class__}", "{brokers[0]}", "{secret}", "{port}"])
def test_check_template_rejects_unknown_or_indexed_placeholders(elem: str) -> None:
    with pytest.raises(StallscopeError, match="placeholder"):
        check_template(["prog", elem], CLIENT_PLACEHOLDERS, "sut.client_command")
