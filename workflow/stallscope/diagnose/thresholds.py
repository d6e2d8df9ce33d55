"""The diagnose stage's thresholds, in one place: what each measures and why it is set where it is.

Grouped by the question they serve: naming a failure's cause (``diagnosis.py``, ``signals.py``, ``liveness.py``)
and naming the throughput bound (``bound*.py``). The thresholds of the signals the panel reads too stay with them in
``shared/signals.py``.
"""

# -- the failure diagnosis: points per cause and the confidence they give ----------------------------------------
#: Points a cause needs to be named: more than a fault hint plus one weak signal.
MIN_CAUSE_SCORE = 1.5
#: A fault knob set for this run is a hint, worth less than any observed signal.
FAULT_HINT = 0.5
#: Producer-side publish bandwidth below this is slow for one host's loopback (healthy runs reach GB/s).
LOW_PRODUCER_MB_S = 200.0
#: Confidence of a named cause: high needs this many points and this margin of points over the runner-up cause ...
CAUSE_HIGH_SCORE, CAUSE_HIGH_MARGIN = 3.0, 1.0
#: ... medium these.
CAUSE_MEDIUM_SCORE, CAUSE_MEDIUM_MARGIN = 2.0, 0.5

# -- the diagnosis' own signals (``signals.py``) ------------------------------------------------------------------
#: More in-run stalls than this are a symptom; the seed's healthy start-up showed one ~55 ms stall per thread.
FEW_STALLS_DURING_RUN = 10

#: Share of a run's payload stalls on one broker above which they are one sender's pauses, not contention.
CONCENTRATED_SHARE = 0.8

#: Fewer payload stalls than this say nothing about a sender: a healthy 10 GiB run on 2 cores logged 2, both on
#: one broker (5,442 batches, every ACK in).
MIN_PAYLOAD_PAUSES = 3

#: One broker's payload stalls took at least this share of the publish phase: a sender's pauses that shaped the
#: run. Healthy 10 GiB runs on 2 cores showed up to 0.125 (machine pauses, on one broker by chance); the
#: partial_header scenario's two 150 ms payload pauses take a third of its publish.
PAUSE_SHARE = 0.2

#: ... or their median is at least this many stall thresholds: the machine's pauses on payload reads measured
#: 50-69 ms against a 50 ms threshold.
PAUSE_OVER_THRESHOLD = 2.0

#: Time blocked in send() as a share of the publish time: above the first the sender felt backpressure,
#: below the second it hardly ever waited for the kernel.
SEND_BLOCKED_SHARE = 0.20

#: (below this one it hardly ever waited)
SMALL_SEND_BLOCKED_SHARE = 0.05

#: Client init wait as a share of the whole run: at least this is large (``shared.signals.INIT_SHARE_DOMINANT``:
#: dominant).
INIT_SHARE_LARGE = 0.25

# -- a paused or failed broker (``liveness.py``) ------------------------------------------------------------------
#: A standstill shorter than this is scheduling noise of a loaded machine, not a paused broker.
PAUSE_MIN_S = 1.0
#: ... and it must be a clear share of the publish (a long publish may see a second-long hiccup).
PAUSE_MIN_SHARE = 0.2
#: The other brokers kept acknowledging meanwhile (a pause of the whole machine stops them too).
OTHERS_GAIN_MIN = 0.05
#: The paused broker's senders were window-limited for most of their busy time: it did not read.
RWND_CORROBORATES = 0.5

# -- the throughput bound (``bound.py``) ----------------------------------------------------------------------------
#: Delivered at least this share of the raw sink's goodput: nothing but the machine bounded the run.
NONE_SHARE_OF_SINK = 0.8
#: Init plus the time after the last ACK take at least this share of the wall time: a perfect publish would
#: still leave the run at under a fifth of its wall time spent publishing.
LIFECYCLE_SHARE = 0.8
#: Delivered over the producer's own Publish() bandwidth at least this: the producer barely outran delivery.
PRODUCER_RATIO = 0.8
#: EAGAIN per batch sent at most this: the senders (almost) never found a socket buffer full.
EAGAIN_PER_BATCH = 0.01
#: A broker's acknowledged share at most this fraction of the others' stands out as a stuck ACK path.
ACK_LAG_RATIO = 0.8

# -- the sender shares of W and one slow path (``bound_parts.py``, ``bound_paths.py``) -----------------------------
#: The winning sender share of W: dominant at the first, clear at the second; margins over the runner-up.
DOMINANT_SHARE, CLEAR_SHARE = 0.5, 0.3
#: The sender shares describe the publish phase: below this share of the wall time they cannot bound the run
#: with high confidence.
MAJOR_SHARE = 0.5
#: Confidence of a bound read from the sender shares: the winning share's margin over the runner-up share, for
#: high and for medium.
SHARE_HIGH_MARGIN, SHARE_MEDIUM_MARGIN = 0.2, 0.1
#: A broker whose senders stay busy this many times longer than any other's holds the run on its own path.
SLOW_PATH_RATIO = 2.0

# -- the host's cores as a bound (``bound_host.py``) --------------------------------------------------------------
#: The machine's busy share of all its cores over the publish at least this: saturated.
SATURATED = 0.9
#: The SUT's threads' run-queue wait over all cores' time at least this: they queued for the cores (a slow
#: producer or a slow receiver sleeps, and reads below a fifth of this).
RUNQ_PER_CORE = 0.5
#: One thread on CPU at least this share of the publish: that thread, not the machine, is the limit.
ONE_THREAD = 0.9
#: Other processes took at least this share of the cores over the publish: the raw sink, measured at another
#: moment, may have met a different machine, so "none" is not said with high confidence.
OTHER_LOAD = 0.5

# -- what a harness's logs state (``bound_harness.py``) -----------------------------------------------------------
#: The clients spent at least this share of their time waiting for ACKs after sending: the ACK path held them.
ACK_WAIT_SHARE = 0.5
#: ... and every client at least this share: no single slow client explains it.
ACK_WAIT_EVERY_CLIENT = 0.3
#: A paced producer delivered at most this multiple of its target (rounding, clocks) ...
PACED_CEILING = 1.05
#: ... and at least this share of it: far below its pace, something else held the run.
PACED_FLOOR = 0.5
#: Under an even split, a broker that acknowledged at most this share of its part stopped ...
STOPPED_SHARE = 0.1
#: ... while every other broker acknowledged at least this share of its part.
COMPLETE_SHARE = 0.9
