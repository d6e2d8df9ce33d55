"""The diagnosis of a broker that was paused or failed, from ``metrics.liveness`` (``analysis/liveness.py``).

Why separate causes: a paused broker also makes its senders receive-window limited (flow control) and a killed one
leaves ACKs short (the ACK path), but those readings send the reader to the wrong place: the broker's code and its
reads, when the process itself was not running. Both scorers name the broker (with its node or emulated host) and
read only evidence the SUT and the runner's process record give, never the fault knobs or the ``[FaultWindow]``
lines (the fault hint, as for every cause, is worth less than any signal).
"""

from __future__ import annotations

from stallscope.diagnose.bound_paths import where
from stallscope.diagnose.score import Score
from stallscope.diagnose.signals import is_ack_short, publish_s
from stallscope.diagnose.thresholds import OTHERS_GAIN_MIN, PAUSE_MIN_S, PAUSE_MIN_SHARE, RWND_CORROBORATES
from stallscope.shared.rundir import RunDir
from stallscope.shared.signals import num


def paused_brokers(run: RunDir) -> list[tuple[str, dict]]:
    """Brokers whose ACKs stood still (long, and a share of the publish) while the others' grew, then resumed."""
    st = run.get("liveness.standstill") or {}
    pub = publish_s(run)
    out = []
    for b, v in sorted(st.items()):
        long_s, gain = num(v.get("longest_s")), num(v.get("others_gain_share"))
        if not v.get("resumed") or long_s is None or gain is None or long_s < PAUSE_MIN_S or gain < OTHERS_GAIN_MIN:
            continue
        if pub and long_s < PAUSE_MIN_SHARE * pub:
            continue
        out.append((b, v))
    return out


def score_paused(run: RunDir, s: Score) -> None:
    """One broker (a minority) stood still and resumed; corroborated by its senders' closed receive window."""
    paused = paused_brokers(run)
    n = len(run.get("liveness.standstill") or {})
    if not paused or len(paused) * 2 > n:
        return
    for b, v in paused:
        s.brokers.append(int(b))
        s.add(run, 2.0, f"{where(run, b)}'s ACKs stood still {v['longest_s']:.2f} s from {v['start_s']:.2f} s into "
              f"the publish while the other brokers gained {v['others_gain_share']:.0%} of their ACKs, then resumed",
              f"liveness.standstill.{b}.longest_s", v["longest_s"])
        busy = num(run.get(f"tcp_phases.publish.per_broker.{b}.busy_us"))
        rwnd = num(run.get(f"tcp_phases.publish.per_broker.{b}.rwnd_limited_us"))
        if busy and rwnd is not None and rwnd / busy >= RWND_CORROBORATES:
            s.add(run, 1.0, f"its senders were receive-window limited {rwnd / busy:.0%} of their busy time: it did "
                  "not read", f"tcp_phases.publish.per_broker.{b}.rwnd_limited_us", rwnd)


def score_failed(run: RunDir, s: Score) -> None:
    """A broker's process ended before the run did (by a signal or an error status)."""
    ended = run.get("liveness.ended_early") or {}
    for b, how in sorted(ended.items()):
        s.brokers.append(int(b))
        end = how.get("signal") or f"exit status {how.get('exit_code')}"
        s.add(run, 3.0, f"{where(run, b)}'s process ended ({end}) before the run ended",
              f"liveness.ended_early.{b}", end)
    if ended and is_ack_short(run):
        s.add(run, 0.5, f"ACKs short ({run.get('acks.received')} of {run.get('acks.expected')})", "acks.received",
              run.get("acks.received"))
