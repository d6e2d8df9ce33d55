"""The predicate registry: claim id -> function(context, claim) -> Verdict.

Predicates live in one module per expert, each named for the claim it judges; this dict is the only place that
pairs them with claims (like pre-commit's ``all_languages.py``). A test checks that every catalogue claim has a
predicate and every registered one judges a claim.
"""

from __future__ import annotations

from collections.abc import Callable

from stallscope.panel import predicates_code as code
from stallscope.panel import predicates_env as env
from stallscope.panel import predicates_logs as logs
from stallscope.panel import predicates_overclaim as over
from stallscope.panel.catalogue import Claim
from stallscope.panel.context import Context
from stallscope.panel.verdicts import Verdict

Predicate = Callable[[Context, Claim], Verdict]

PREDICATES: dict[str, Predicate] = {
    # expert 1: correctness & code
    "recv_sites_covered": code.recv_sites_covered,
    "partial_not_blamed_on_next_batch": code.partial_not_blamed_on_next_batch,
    "close_mid_header_detected": code.close_mid_header_detected,
    "stall_lines_state_bytes_read": code.stall_lines_state_bytes_read,
    "overhead_negligible": code.overhead_negligible,
    # expert 2: logs & causality
    "broker_blocks_in_recv": logs.broker_blocks_in_recv,
    "blocks_during_publish": logs.blocks_during_publish,
    "e2e_long_stalls_after_client_done": logs.e2e_long_stalls_after_client_done,
    "headers_late_not_never": logs.headers_late_not_never,
    "ring_not_repeated_stall": logs.ring_not_repeated_stall,
    "long_stalls_end_in_close": logs.long_stalls_end_in_close,
    "acks_complete": logs.acks_complete,
    # expert 3: test & environment
    "reproduced_original_failure": env.reproduced_original_failure,
    "init_delay_dominates": env.init_delay_dominates,
    "grep_verdict_brittle": env.grep_verdict_brittle,
    "verdict_reflects_outcome": env.verdict_reflects_outcome,
    # expert 4: overclaim & next steps
    "recv_root_cause_of_ack_timeout": over.recv_root_cause_of_ack_timeout,
    "problem_fixed": over.problem_fixed,
}
