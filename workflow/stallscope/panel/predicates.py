"""The predicate registry: catalogue name -> function(context, claim) -> Verdict.

Predicates live in one module per expert; this dict is the only place that names them (like pre-commit's
``all_languages.py``). A test checks that every catalogue predicate is registered and every registered one used.
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
    "covers_recv_sites": code.covers_recv_sites,
    "partial_stalls_attributed": code.partial_stalls_attributed,
    "close_mid_header_detected": code.close_mid_header_detected,
    "stall_lines_state_bytes_read": code.stall_lines_state_bytes_read,
    "overhead_negligible": code.overhead_negligible,
    # expert 2: logs & causality
    "stalls_in_recv": logs.stalls_in_recv,
    "stalls_during_publish": logs.stalls_during_publish,
    "long_stalls_post_phase": logs.long_stalls_post_phase,
    "headers_bursty": logs.headers_bursty,
    "ring_full_at_most_once": logs.ring_full_at_most_once,
    "long_stalls_end_in_close": logs.long_stalls_end_in_close,
    "acks_complete": logs.acks_complete,
    # expert 3: test & environment
    "reproduced_original": env.reproduced_original,
    "init_dominates": env.init_dominates,
    "grep_brittle": env.grep_brittle,
    "verdict_matches_outcome": env.verdict_matches_outcome,
    # expert 4: overclaim & next steps
    "recv_root_cause": over.recv_root_cause,
    "fixed_across_commits": over.fixed_across_commits,
}
