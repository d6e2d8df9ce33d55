"""The domain's names, each written once: causes and bounds, verdicts, how a run ended, and the fault knobs that
inject causes.

Why one home: the diagnosis, the bound, the panel, the report, the runner and the schemas all speak these names;
spelled in each, they drift. Code outside this module uses the constants, never the words (``tests/test_vocabulary.py``
scans the package for them). The schemas keep their own enums (a schema is data, not code) and
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


# -- how a run ended (metrics ``outcome.status``) -----------------------------------------------------------------
COMPLETED = "completed"
COMPLETED_SHORTFALL = "completed_shortfall"  # completed with an allowed shortfall (e.g. a broker killed on purpose)
ACK_TIMEOUT = "ack_timeout"
FAILED = "failed"
CRASHED = "crashed"
KILLED = "killed"  # ended by a signal or a timeout's exit status
#: Every status, in the schemas' order. ``harness_error`` and ``unknown`` are statuses too, the same words as the
#: verdict (the harness failed, nothing about the broker can be said) and the bound (nothing says what held it).
OUTCOME_STATUSES = (COMPLETED, COMPLETED_SHORTFALL, ACK_TIMEOUT, FAILED, CRASHED, KILLED, HARNESS_ERROR, UNKNOWN)


# -- fault knobs ---------------------------------------------------------------------------------------------------
PRODUCER_COST_NS = "producer_cost_ns"
BATCH_GAP_MS = "batch_gap_ms"
GAP_EVERY = "gap_every"
GAP_COUNT = "gap_count"
FAULT_BROKER = "fault_broker"
INIT_DELAY_SEC = "init_delay_sec"
HEADER_PAUSE_MS = "header_pause_ms"
HEADER_PAUSE_COUNT = "header_pause_count"
PAYLOAD_PAUSE_MS = "payload_pause_ms"
PAYLOAD_PAUSE_COUNT = "payload_pause_count"
LINGER_SEC = "linger_sec"
CLOSE_MID_HEADER = "close_mid_header"
CONSUME_DELAY_MS = "consume_delay_ms"
RING_SLOTS = "ring_slots"
RECV_DELAY_US = "recv_delay_us"
ACK_STALL_AFTER = "ack_stall_after"
ACK_STALL_BROKER = "ack_stall_broker"
CPU_HOG = "cpu_hog"
STOP_BROKER = "stop_broker"
STOP_AFTER_S = "stop_after_s"
STOP_FOR_S = "stop_for_s"
KILL_BROKER = "kill_broker"
KILL_AFTER_S = "kill_after_s"


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
    FaultKnob(PRODUCER_COST_NS, "client", "--producer-cost-ns", CLIENT_PRODUCER, "header"),
    FaultKnob(BATCH_GAP_MS, "client", "--batch-gap-ms", CLIENT_PRODUCER, "header"),
    FaultKnob(GAP_EVERY, "client", "--gap-every"),
    FaultKnob(GAP_COUNT, "client", "--gap-count"),
    FaultKnob(FAULT_BROKER, "client", "--fault-broker"),
    FaultKnob(INIT_DELAY_SEC, "client", "--init-delay-sec", INIT_LIFECYCLE, "header"),
    FaultKnob(HEADER_PAUSE_MS, "client", "--header-pause-ms", CLIENT_PRODUCER, "partial"),
    FaultKnob(HEADER_PAUSE_COUNT, "client", "--header-pause-count"),
    FaultKnob(PAYLOAD_PAUSE_MS, "client", "--payload-pause-ms", CLIENT_PRODUCER, "payload"),
    FaultKnob(PAYLOAD_PAUSE_COUNT, "client", "--payload-pause-count"),
    FaultKnob(LINGER_SEC, "client", "--linger-sec", INIT_LIFECYCLE, "header"),
    FaultKnob(CLOSE_MID_HEADER, "client", None, INIT_LIFECYCLE),
    FaultKnob(CONSUME_DELAY_MS, "broker", "--consume-delay-ms", BROKER_RING),
    FaultKnob(RING_SLOTS, "broker", "--ring-slots", BROKER_RING),
    FaultKnob(RECV_DELAY_US, "broker", "--recv-delay-us", FLOW_CONTROL),
    FaultKnob(ACK_STALL_AFTER, "broker", "--ack-stall-after", ACK_PATH),
    FaultKnob(ACK_STALL_BROKER, "broker"),
    FaultKnob(STOP_BROKER, "runner", None, BROKER_PAUSED),
    FaultKnob(STOP_AFTER_S, "runner"),
    FaultKnob(STOP_FOR_S, "runner"),
    FaultKnob(KILL_BROKER, "runner", None, BROKER_FAILURE),
    FaultKnob(KILL_AFTER_S, "runner"),
    FaultKnob(CPU_HOG, "runner", None, HOST_CPU),
)


def knobs_of_cause(cause: str) -> tuple[str, ...]:
    """The fault knobs that inject ``cause``, in table order."""
    return tuple(k.name for k in FAULT_KNOBS if k.cause == cause)


def knobs_of_site(site: str) -> tuple[str, ...]:
    """The fault knobs that make the recv ``site`` block, in table order."""
    return tuple(k.name for k in FAULT_KNOBS if k.site == site)


def knobs_of_role(role: str) -> tuple[str, ...]:
    """The fault knobs ``role`` (client, broker, runner) takes, in table order."""
    return tuple(k.name for k in FAULT_KNOBS if k.role == role)


def flags_of_role(role: str) -> dict[str, str]:
    """Knob -> flag of the integer-valued knobs ``role`` (client, broker) takes on its command line."""
    return {k.name: k.flag for k in FAULT_KNOBS if k.role == role and k.flag}


#: The knobs that make the producer slow on purpose (injected, so its idle senders are no mystery).
PRODUCER_FAULTS = tuple(k.name for k in FAULT_KNOBS if k.cause == CLIENT_PRODUCER and k.role == "client")
#: The knobs that slow one role of the SUT on purpose (the publisher's producer or a broker's reader).
ROLE_FAULTS = (*PRODUCER_FAULTS, *(k.name for k in FAULT_KNOBS if k.role == "broker" and k.cause in (
    FLOW_CONTROL, BROKER_RING, ACK_PATH) and k.name != RING_SLOTS))
