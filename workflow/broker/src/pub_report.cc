// refpub end of run: ACK wait with the 1/s progress line, success or timeout block, linger, and the
// per-connection [TcpInfo] / [SendStats] lines plus the producer-only bandwidth.
#include <string>

#include "exit_codes.h"
#include "fault_window.h"
#include "log.h"
#include "net.h"
#include "pub.h"

namespace sl {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// Waits until every message is acknowledged or the timeout passes; true on success.
// The wait ends at the run's deadline (publish start + timeout); elapsed counts from publish start.
bool wait_for_acks(const PubRun& run, const AckCollector& acks, int64_t t_start) {
  const int64_t t0 = t_start;
  int64_t next_log = now_us() + 1000000;
  while (acks.total() < run.total_msgs) {
    const int64_t now = now_us();
    if (now >= run.deadline_us) return false;
    if (now >= next_log) {
      LOGI("Waiting for acknowledgments, received %llu out of %llu (elapsed: %llds, timeout: %llds) [%s]",
           (unsigned long long)acks.total(), (unsigned long long)run.total_msgs, (long long)((now - t0) / 1000000),
           (long long)run.s.ack_timeout_sec, acks.per_broker_list().c_str());
      next_log += 1000000;
    }
    sleep_us(1000);
  }
  return true;
}

// Every broker's ACK count read once: ACKs still arriving while the lines are written must not make the total
// and the per-broker figures of one report disagree.
std::vector<uint64_t> ack_snapshot(const AckCollector& acks, size_t nbrokers) {
  std::vector<uint64_t> now(nbrokers, 0);
  for (size_t b = 0; b < nbrokers; ++b) now[b] = acks.of(b);
  return now;
}

// "B0=<acked>(sent=<n>,short=<n>) B1=..." (the later Embarcadero per-broker form).
std::string per_broker_acks(const PubRun& run, const std::vector<uint64_t>& acked, size_t nbrokers) {
  std::vector<uint64_t> sent_to(nbrokers, 0);
  for (const auto& c : run.conns) sent_to[size_t(c->broker)] += c->messages;
  std::string per;
  for (size_t b = 0; b < nbrokers; ++b) {
    const uint64_t a = acked[b];
    per += (b ? " B" : "B") + std::to_string(b) + "=" + std::to_string(a) + "(sent=" + std::to_string(sent_to[b]) +
           ",short=" + std::to_string(sent_to[b] > a ? sent_to[b] - a : 0) + ")";
  }
  return per;
}

void log_ack_timeout(const PubRun& run, const AckCollector& acks, size_t nbrokers) {
  const std::vector<uint64_t> now = ack_snapshot(acks, nbrokers);
  unsigned long long acked = 0;
  for (const uint64_t a : now) acked += a;
  const unsigned long long target = run.total_msgs;
  const long long t = run.s.ack_timeout_sec;
  uint64_t sent = 0, failed = 0;
  for (const auto& c : run.conns) {
    sent += c->batches;
    failed += c->failed;
  }
  const std::string per = per_broker_acks(run, now, nbrokers);
  LOGI("[Phase] ack_timeout");
  LOGE("[Publisher ACK Timeout]: Waited %lld seconds for ACKs, received %llu out of %llu (timeout=%llds)", t, acked,
       target, t);
  LOGE("[Publisher ACK Diagnostics]: ack_level=%lld, last_ack_received=%llu, client_order=%llu",
       (long long)run.s.ack_level, acked, target);
  LOGE("[Publisher Batch Stats]: total_batches_sent=%llu attempted=%llu failed=%llu (sent_all=%s)",
       (unsigned long long)sent, (unsigned long long)run.batches_attempted.load(), (unsigned long long)failed,
       failed == 0 ? "yes" : "no");
  LOGE("[Publisher ACK Per-Broker]: %s", per.c_str());
  LOGE("Publish test failed: ACK wait timed out");
}

void log_connection_lines(const PubRun& run) {
  for (const auto& cp : run.conns) {
    const PubConn& c = *cp;
    LOGI("[TcpInfo] broker=%d conn=%d busy_us=%llu rwnd_limited_us=%llu sndbuf_limited_us=%llu bytes_acked=%llu "
         "retrans=%u snd_cwnd=%u rtt_us=%u", c.broker, c.k, (unsigned long long)c.tcp.busy_us,
         (unsigned long long)c.tcp.rwnd_limited_us, (unsigned long long)c.tcp.sndbuf_limited_us,
         (unsigned long long)c.tcp.bytes_acked, c.tcp.total_retrans, c.tcp.snd_cwnd, c.tcp.rtt_us);
  }
  for (const auto& cp : run.conns) {
    const PubConn& c = *cp;
    LOGI("[SendStats] broker=%d conn=%d batches=%llu bytes=%llu messages=%llu send_blocked_us=%lld eagain=%llu",
         c.broker, c.k, (unsigned long long)c.batches, (unsigned long long)c.bytes, (unsigned long long)c.messages,
         (long long)c.send_blocked_us, (unsigned long long)c.eagain);
  }
  log_tcp_phases(run);
  const double secs = run.producer_busy_us > 0 ? run.producer_busy_us / 1e6 : 1e-6;
  LOGI("[PublisherPipelineProfile] Publish() bandwidth: %.2f MB/s", run.produced_bytes / kMiB / secs);
  uint64_t eagain = 0, batches = 0;
  for (const auto& c : run.conns) {
    eagain += c->eagain;
    batches += c->batches;
  }
  LOGI("[PublisherPipelineProfile] Send EAGAIN/ENOBUFS count: %llu, SendPayload batches: %llu, EAGAIN per batch: "
       "%.2f", (unsigned long long)eagain, (unsigned long long)batches, batches ? double(eagain) / batches : 0.0);
}

}  // namespace

int finish_run(PubRun& run, AckCollector& acks, size_t nbrokers, int64_t t_start) {
  bool ok = true;
  if (run.s.ack_level >= 1) ok = wait_for_acks(run, acks, t_start);
  const int64_t t_end = now_us();
  uint64_t failed = 0;
  for (const auto& c : run.conns) failed += c->failed;
  if (!ok) {
    log_ack_timeout(run, acks, nbrokers);
  } else {
    if (run.s.ack_level >= 1) {
      LOGI("[Phase] ack_done");
      // Extra (real builds print it only on a timeout): the per-broker ground truth of a successful run.
      LOGI("[Publisher ACK Per-Broker]: %s", per_broker_acks(run, ack_snapshot(acks, nbrokers), nbrokers).c_str());
    }
    const double secs = (t_end - t_start) / 1e6;
    LOGI("Publisher finished sending %llu messages, keeping cluster context alive for subscriber",
         (unsigned long long)run.total_msgs);
    LOGI("Publish test completed in %.2f seconds", secs);
    LOGI("Bandwidth: %.2f MB/s", double(run.total_msgs) * double(run.s.msg_bytes) / kMiB / (secs > 0 ? secs : 1e-6));
  }
  if (run.s.linger_sec > 0) {
    LOGI("[Fault] linger: keeping data connections open for %lld s", (long long)run.s.linger_sec);
    fault_window("start", "linger");
    sleep_us(run.s.linger_sec * 1000000);
    fault_window("stop", "linger");
  }
  for (auto& c : run.conns) close_data_socket(*c);
  acks.shutdown();
  if (run.latency != nullptr) run.latency->log_summary();
  log_connection_lines(run);
  if (!ok) return exit_value(ExitCode::kAckTimeout);
  if (failed > 0) {
    LOGE("Publish test failed: %llu batches did not go through (client_id=%u)", (unsigned long long)failed,
         run.client_id);
    return exit_value(ExitCode::kSend);
  }
  return exit_value(ExitCode::kOk);
}

}  // namespace sl
