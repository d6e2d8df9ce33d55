"""The analysis stage's thresholds, in one place: what each measures and why it is set where it is.

The analysis turns parsed lines into metrics; these are the few places where it judges instead of counting:
whether a run can be read at all (``evidence.py``), whether its clock can be trusted (``clock.py``), whether the
CPU samples resolve a phase (``cpu.py``) and what unit a harness's send gap is in (``endings.py``). Limits that are
not judgments (how many examples or citations a metric keeps, how many bytes of a log are read) stay with their
code.
"""

# -- can the run be read (``evidence.py``) ------------------------------------------------------------------------
#: A run is judged on nothing when fewer than this share of its lines could be read at all: with most lines
#: unreadable, any figure rests on the minority that happened to parse.
MIN_READABLE_SHARE = 0.5

# -- can the clock be trusted (``clock.py``) ----------------------------------------------------------------------
#: A step back in time of at least this many microseconds breaks the timeline. glog stamps a record when it is
#: created and writes it when complete, so concurrent threads' records come out of order by milliseconds under
#: load; a second or more is a clock or a file that cannot be read as a timeline.
BACKSTEP_US = 1_000_000

# -- do the CPU samples resolve a phase (``cpu.py``) --------------------------------------------------------------
#: A phase spanning fewer sampling intervals than this is not resolved by the samples (its shares would rest on
#: one or two differences of cumulative counters).
MIN_INTERVALS = 3

# -- what a harness's words mean (``endings.py``) -----------------------------------------------------------------
#: A send gap given without a unit (``gap=3``) is in milliseconds above this value, in seconds at or below it: a
#: harness pauses its sender for seconds, never minutes, and no gap of interest is shorter than 100 ms.
UNITLESS_GAP_MS_ABOVE = 100
