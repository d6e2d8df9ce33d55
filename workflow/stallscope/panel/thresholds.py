"""The panel's thresholds, in one place: what each measures and why it is set where it is.

Grouped by the question they serve: which runs a claim is judged on (``kinds.py``, ``predicates_env.py``) and
whether the stall timers cost throughput (``predicates_code.py``). Two kinds of line live elsewhere on purpose: the
thresholds of the signals the diagnosis reads too stay with them in ``shared/signals.py`` (``INIT_SHARE_DOMINANT``,
``LONG_STALL_MS``, ...), and "fails in most trials" is ``shared.compare.MOST_TRIALS``, the same rule the
before/after comparison settles ``problem_fixed`` by. Limits that are not judgments (how many citations a claim
keeps) stay with their code (``verdicts.py``).
"""

# -- which runs a claim is about ----------------------------------------------------------------------------------
#: Relative difference in bytes still counted as the same size (a 10 MiB run is the 10 MB e2e; 8 GiB is not 10).
SIZE_TOLERANCE = 0.1
#: A run this large or larger counts as the original failure's size (10 GiB; 90 % to allow rounding).
ORIGINAL_TOTAL_BYTES = int(0.9 * 10 * 1024**3)

# -- the stall timers' cost (``overhead_negligible``) -------------------------------------------------------------
#: Timers-on over timers-off throughput ratio within which the overhead is noise: loopback throughput runs
#: repeat within about 3 %.
NEGLIGIBLE_OVERHEAD = 0.03
