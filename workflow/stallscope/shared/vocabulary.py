"""The domain's names, each written once: causes and bounds, verdicts, and the fault knobs that inject causes.

Why one home: the diagnosis, the bound, the panel, the report, the runner and the schemas all speak these names;
spelled in each, they drift. The schemas keep their own enums (a schema is data, not code) and
``tests/test_vocabulary.py`` checks them against this module.
"""

from __future__ import annotations

from dataclasses import dataclass

# -- causes and bounds ---------------------------------------------------------------------------------------------
CLIENT_PRODUCER = "client_producer"
FLOW_CONTROL = "flow_control"
BROKER_RING = "broker_ring"
ACK_PATH = "ack_path"
INIT_LIFECYCLE = "init_lifecycle"
BROKER_PAUSED = "broker_paused"
BROKER_FAILURE = "broker_failure"
PACED = "paced"
SEND_BUFFER = "send_buffer"
NETWORK = "network"
HOST_CPU = "host_cpu"
NONE = "none"
UNKNOWN = "unknown"

#: The causes the failure diagnosis scores, in scoring order.
CAUSES = (CLIENT_PRODUCER, FLOW_CONTROL, BROKER_RING, ACK_PATH, INIT_LIFECYCLE, BROKER_PAUSED, BROKER_FAILURE)
#: Ties go to the more specific cause: ring pressure and a stuck ACK path also make senders rwnd-limited or
#: brokers wait in recv, so they explain flow-control and producer signals, not the other way round.
#: A broker that failed or was paused explains all of those (its ACKs short, its senders window-limited).
TIE_ORDER = (BROKER_FAILURE, BROKER_PAUSED, BROKER_RING, ACK_PATH, FLOW_CONTROL, CLIENT_PRODUCER, INIT_LIFECYCLE)
#: What can hold a run's throughput (``diagnose/bound.py``).
BOUNDS = (CLIENT_PRODUCER, PACED, FLOW_CONTROL, SEND_BUFFER, NETWORK, BROKER_RING, ACK_PATH, BROKER_FAILURE,
          INIT_LIFECYCLE, HOST_CPU, NONE, UNKNOWN)
#: The senders' shares of the publish phase's wall time W, and the bound each names when it is the largest.
SENDER_SHARES = {"idle_share": CLIENT_PRODUCER, "rwnd_share": FLOW_CONTROL, "sndbuf_share": SEND_BUFFER,
                 "network_share": NETWORK}
#: What a scenario may say it injects (config ``expected_cause``).
EXPECTED_CAUSES = (NONE, CLIENT_PRODUCER, FLOW_CONTROL, BROKER_RING, ACK_PATH, INIT_LIFECYCLE, NETWORK, BROKER_PAUSED,
                   BROKER_FAILURE)

# -- verdicts ------------------------------------------------------------------------------------------------------
SUPPORTED = "supported"
REFUTED = "refuted"
INCONCLUSIVE = "inconclusive"
OVERCLAIM = "overclaim"
NOT_RUN = "not_run"
HARNESS_ERROR = "harness_error"
#: Roll-up priority, highest first: harness_error > refuted > overclaim > inconclusive > not_run > supported.
VERDICTS = (HARNESS_ERROR, REFUTED, OVERCLAIM, INCONCLUSIVE, NOT_RUN, SUPPORTED)
#: The order a report lists verdict counts in (the settled ones first).
VERDICTS_SHOWN = (SUPPORTED, REFUTED, INCONCLUSIVE, OVERCLAIM, NOT_RUN, HARNESS_ERROR)


# -- fault knobs ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FaultKnob:
    """One fault knob of a scenario: the flag that sets it, who takes it, the cause it injects, the recv site it
    makes block (``header``, ``partial``, ``payload``)."""

    name: str
    role: str  # client, broker, or runner (applied from outside the SUT)
    flag: str | None = None  # an integer-valued flag of the reference client or broker
    cause: str | None = None  # None: a modifier of another knob
    site: str | None = None


FAULT_KNOBS = (
    FaultKnob("producer_cost_ns", "client", "--producer-cost-ns", CLIENT_PRODUCER, "header"),
    FaultKnob("batch_gap_ms", "client", "--batch-gap-ms", CLIENT_PRODUCER, "header"),
    FaultKnob("gap_every", "client", "--gap-every"),
    FaultKnob("gap_count", "client", "--gap-count"),
    FaultKnob("fault_broker", "client", "--fault-broker"),
    FaultKnob("init_delay_sec", "client", "--init-delay-sec", INIT_LIFECYCLE, "header"),
    FaultKnob("header_pause_ms", "client", "--header-pause-ms", CLIENT_PRODUCER, "partial"),
    FaultKnob("header_pause_count", "client", "--header-pause-count"),
    FaultKnob("payload_pause_ms", "client", "--payload-pause-ms", CLIENT_PRODUCER, "payload"),
    FaultKnob("payload_pause_count", "client", "--payload-pause-count"),
    FaultKnob("linger_sec", "client", "--linger-sec", INIT_LIFECYCLE, "header"),
    FaultKnob("close_mid_header", "client", None, INIT_LIFECYCLE),
    FaultKnob("consume_delay_ms", "broker", "--consume-delay-ms", BROKER_RING),
    FaultKnob("ring_slots", "broker", "--ring-slots", BROKER_RING),
    FaultKnob("recv_delay_us", "broker", "--recv-delay-us", FLOW_CONTROL),
    FaultKnob("ack_stall_after", "broker", "--ack-stall-after", ACK_PATH),
    FaultKnob("ack_stall_broker", "broker"),
    FaultKnob("cpu_hog", "runner", None, HOST_CPU),
    FaultKnob("stop_broker", "runner", None, BROKER_PAUSED),
    FaultKnob("stop_after_s", "runner"),
    FaultKnob("stop_for_s", "runner"),
    FaultKnob("kill_broker", "runner", None, BROKER_FAILURE),
    FaultKnob("kill_after_s", "runner"),
)


def knobs_of_cause(cause: str) -> tuple[str, ...]:
    """The fault knobs that inject ``cause``, in table order."""
    return tuple(k.name for k in FAULT_KNOBS if k.cause == cause)


def knobs_of_site(site: str) -> tuple[str, ...]:
    """The fault knobs that make the recv ``site`` block, in table order."""
    return tuple(k.name for k in FAULT_KNOBS if k.site == site)


def flags_of_role(role: str) -> dict[str, str]:
    """Knob -> flag of the integer-valued knobs ``role`` (client, broker) takes on its command line."""
    return {k.name: k.flag for k in FAULT_KNOBS if k.role == role and k.flag}


#: The knobs that make the producer slow on purpose (injected, so its idle senders are no mystery).
PRODUCER_FAULTS = tuple(k.name for k in FAULT_KNOBS if k.cause == CLIENT_PRODUCER and k.role == "client")
#: The knobs that slow one role of the SUT on purpose (the publisher's producer or a broker's reader).
ROLE_FAULTS = (*PRODUCER_FAULTS, *(k.name for k in FAULT_KNOBS if k.role == "broker" and k.cause in (
    FLOW_CONTROL, BROKER_RING, ACK_PATH) and k.name != "ring_slots"))
