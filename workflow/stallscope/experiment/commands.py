"""Command lines for the broker under test, built from argv templates without a shell.

A template is a list of strings. Placeholders name values the runner controls (numbers, loopback ports,
paths it created); each placeholder fills part of one argument, so no value can add an argument or reach a
shell. The reference broker is described by the same templates a user writes for an external one.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from typing import Any

from stallscope.errors import StallscopeError
from stallscope.experiment.placement import Placement
from stallscope.shared.vocabulary import ACK_STALL_AFTER, ACK_STALL_BROKER, CLOSE_MID_HEADER, flags_of_role

REFERENCE_BINARIES = ["refbroker", "refpub"]
REFERENCE_BROKER = [
    "{bin_dir}/refbroker", "--id", "{broker_id}", "--port", "{port}", "--ready-file", "{ready_file}",
    "--stall-threshold-ms", "{stall_threshold_ms}", "{broker_fault_args}", "{broker_net_args}",
]
REFERENCE_CLIENT = [
    "{bin_dir}/refpub", "-m", "{message_size}", "-s", "{total_bytes}", "-n", "{threads_per_broker}",
    "-o", "{order}", "-a", "{ack_level}", "--ack-timeout-sec", "{ack_timeout_s}", "-b", "{brokers}",
    "--batch-bytes", "{batch_bytes}", "{client_fault_args}", "{client_net_args}",
]
BUILD_PLACEHOLDERS = {"source", "build_dir"}
BROKER_PLACEHOLDERS = {"bin_dir", "broker_id", "port", "ready_file", "stall_threshold_ms", "bind_addr", "ack_host"}
CLIENT_PLACEHOLDERS = {
    "bin_dir", "brokers", "message_size", "total_bytes", "threads_per_broker", "order", "ack_level",
    "ack_timeout_s", "batch_bytes", "bind_addr",
}
EXPANSIONS = {"{broker_fault_args}", "{client_fault_args}", "{broker_net_args}", "{client_net_args}"}

# fault knob -> the flag that sets it, one table per side (publisher, broker)
_CLIENT_FLAGS = flags_of_role("client")
#: Every broker takes these; the ACK stall goes to one broker only (``broker_fault_args``).
_BROKER_FLAGS = {k: f for k, f in flags_of_role("broker").items() if k != ACK_STALL_AFTER}
_ACK_STALL_FLAG = flags_of_role("broker")[ACK_STALL_AFTER]


def client_fault_args(faults: Mapping[str, Any]) -> list[str]:
    """Publisher flags for the client-side fault knobs."""
    args: list[str] = []
    for knob, flag in _CLIENT_FLAGS.items():
        if knob in faults:
            args += [flag, str(int(faults[knob]))]
    if faults.get(CLOSE_MID_HEADER):
        args.append("--close-mid-header")
    return args


def broker_fault_args(faults: Mapping[str, Any], broker_id: int) -> list[str]:
    """Broker flags for the broker-side fault knobs; the ACK stall goes to one broker only."""
    args: list[str] = []
    for knob, flag in _BROKER_FLAGS.items():
        if knob in faults:
            args += [flag, str(int(faults[knob]))]
    if ACK_STALL_AFTER in faults and broker_id == int(faults.get(ACK_STALL_BROKER, 0)):
        args += [_ACK_STALL_FLAG, str(int(faults[ACK_STALL_AFTER]))]
    return args


def broker_net_args(place: Placement, broker_id: int) -> list[str]:
    """Reference broker flags that bind it to its host's address and send ACKs to the publisher's.

    Empty on loopback, so a loopback run's command line is what it always was.
    """
    if place.kind == "loopback":
        return []
    return ["--bind", place.broker(broker_id).host.address, "--ack-host", place.client.host.address]


def client_net_args(place: Placement) -> list[str]:
    """Reference publisher flags that bind its ACK listener to its host's address (empty on loopback)."""
    return [] if place.kind == "loopback" else ["--bind", place.client.host.address]


def places_itself(template: Sequence[str]) -> bool:
    """Whether a broker template can be told its address ({bind_addr} or {broker_net_args})."""
    return "{broker_net_args}" in template or any("{bind_addr}" in e for e in template)


def check_template(template: Sequence[str], allowed: set[str], where: str) -> None:
    """Reject placeholders a template may not use (attribute access, indexing, unknown names)."""
    for elem in template:
        if elem in EXPANSIONS:
            continue
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(elem) if f is not None]
        except ValueError as exc:
            raise StallscopeError(None, None, f"{where}: bad template element {elem!r}: {exc}") from None
        for f in fields:
            if f not in allowed:
                raise StallscopeError(
                    None, None, f"{where}: unknown placeholder {{{f}}} in {elem!r}; allowed: {sorted(allowed)}"
                )


def fill_argv(template: Sequence[str], values: Mapping[str, Any], expansions: Mapping[str, list[str]]) -> list[str]:
    """Fill a template: each element formats to exactly one argument, or expands to a list of flags."""
    argv: list[str] = []
    for elem in template:
        if elem in EXPANSIONS:
            argv.extend(expansions.get(elem, []))
        else:
            argv.append(elem.format_map({k: str(v) for k, v in values.items()}))
    return argv


def build_templates(sut: Mapping[str, Any]) -> list[list[str]]:
    """The external broker's build commands (one or several), checked."""
    cmd = sut["build_command"]
    cmds = [list(c) for c in cmd] if cmd and isinstance(cmd[0], list) else [list(cmd)]
    for c in cmds:
        check_template(c, BUILD_PLACEHOLDERS, "sut.build_command")
    return cmds


def external_templates(sut: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """An external broker's broker and client templates (``sut.broker_command``, ``sut.client_command``), checked."""
    broker, client = list(sut["broker_command"]), list(sut["client_command"])
    check_template(broker, BROKER_PLACEHOLDERS, "sut.broker_command")
    check_template(client, CLIENT_PLACEHOLDERS, "sut.client_command")
    return broker, client
