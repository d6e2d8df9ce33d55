// refbroker: reference stand-in for the Embarcadero publish path (blocking mode, ORDER=0).
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "broker.h"
#include "exit_codes.h"
#include "fault_window.h"
#include "flags.h"
#include "log.h"
#include "net.h"

namespace {
std::atomic<bool> g_stop{false};  // the only mutable global: set once by the signal thread
}  // namespace

namespace sl {
namespace {

bool parse_settings(int argc, char** argv, BrokerSettings* s, ExitCode* code) {
  FlagSet f("refbroker");
  f.add_int("--id", &s->id, "broker index");
  f.add_int("--port", &s->port, "listen port (required)");
  f.add_str("--bind", &s->bind_addr, "IPv4 address to listen on (default 127.0.0.1; 0.0.0.0 is refused)");
  f.add_str("--ack-host", &s->ack_host, "IPv4 address of the publisher's ACK listener (default 127.0.0.1)");
  f.add_str("--ready-file", &s->ready_file, "path that receives \"ready\\n\" once listening");
  f.add_int("--stall-threshold-ms", &s->stall_threshold_ms, "[STALL] threshold in ms (default 50)");
  f.add_int("--ring-slots", &s->ring_slots, "ring capacity in slots (default 64)");
  f.add_int("--slot-bytes", &s->slot_bytes, "bytes per slot (default 2097280)");
  f.add_int("--ring-max-mb", &s->ring_max_mb, "refuse to start if slots*slot_bytes exceeds this (MiB, default 256)");
  f.add_int("--consume-delay-ms", &s->consume_delay_ms, "fault: consumer sleeps this long per batch");
  f.add_int("--recv-delay-us", &s->recv_delay_us, "fault: sleep before each payload recv, recv capped at 64 KiB");
  f.add_int("--ack-stall-after", &s->ack_stall_after, "fault: ACK value stops advancing once >= N messages");
  f.add_int("--max-connections", &s->max_connections,
            "data connections plus ACK channels served at once, one thread each (default 256)");
  std::string err;
  if (!f.parse(argc, argv, &err)) {
    std::fprintf(stderr, "%s\n", err.c_str());
    *code = err.rfind("usage:", 0) == 0 ? ExitCode::kOk : ExitCode::kUsage;
    return false;
  }
  const char* bad = nullptr;
  if (s->port <= 0 || s->port > 65535) bad = "--port must be in 1..65535";
  else if (s->stall_threshold_ms < 1) bad = "--stall-threshold-ms must be >= 1";
  else if (s->ring_slots < 1) bad = "--ring-slots must be >= 1";
  else if (s->slot_bytes < 192 || s->slot_bytes % 64 != 0) bad = "--slot-bytes must be a multiple of 64, >= 192";
  else if (s->max_connections < 1) bad = "--max-connections must be >= 1";
  else if (s->consume_delay_ms < 0 || s->recv_delay_us < 0 || s->ack_stall_after < 0) bad = "fault knobs must be >= 0";
  if (bad) {
    LOGE("Broker %lld: %s", (long long)s->id, bad);
    *code = ExitCode::kUsage;
    return false;
  }
  return true;
}

void accept_loop(BrokerState& st, int lfd) {
  uint64_t fd_shortages = 0;
  while (!st.stop.load()) {
    struct pollfd p{lfd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) {  // the pending connection stays queued; retry shortly
        if (++fd_shortages <= 10 || fd_shortages % 1000 == 0)
          LOGE("Broker %lld: accept on the data port: %s (%llu times); raise ulimit -n or lower --max-connections",
               (long long)st.settings.id, std::strerror(errno), (unsigned long long)fd_shortages);
        sleep_us(10 * 1000);
      } else if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
        LOGE("Broker %lld: accept on the data port: %s", (long long)st.settings.id, std::strerror(errno));
      }
      continue;
    }
    if (!take_channel(st, "data connection")) {
      ::close(fd);
      continue;
    }
    st.counters.connections.fetch_add(1);
    const bool started = spawn_worker(st, [&st, fd] {
      run_connection(st, fd);
      give_channel(st);
    });
    if (!started) {
      give_channel(st);
      ::close(fd);
    }
  }
  ::close(lfd);
}

void log_metrics(BrokerState& st) {
  const BrokerCounters& k = st.counters;
  LOGI("[BrokerMetrics] broker=%lld stalls_header=%llu stalls_partial=%llu stalls_payload=%llu ring_full=%llu "
       "batches=%llu bytes=%llu messages=%llu connections=%llu acked=%llu ack_sent=%llu stall_timers=%d refused=%llu "
       "invalid_batches=%llu",
       (long long)st.settings.id, (unsigned long long)k.stalls_header.load(),
       (unsigned long long)k.stalls_partial.load(), (unsigned long long)k.stalls_payload.load(),
       (unsigned long long)k.ring_full.load(), (unsigned long long)k.batches.load(),
       (unsigned long long)k.bytes.load(), (unsigned long long)k.messages.load(),
       (unsigned long long)k.connections.load(), (unsigned long long)st.written.load(),
       (unsigned long long)st.ack_sent.load(), kStallTimers ? 1 : 0, (unsigned long long)k.refused.load(),
       (unsigned long long)k.invalid_batches.load());
}

int run(int argc, char** argv) {
  block_shutdown_signals();  // before any thread exists, so every worker inherits the mask
  BrokerSettings s;
  ExitCode code = ExitCode::kOk;
  if (!parse_settings(argc, argv, &s, &code)) return exit_value(code);
  const long long b = s.id;
  const unsigned long long ring_bytes = (unsigned long long)s.ring_slots * (unsigned long long)s.slot_bytes;
  if (ring_bytes > ((unsigned long long)s.ring_max_mb << 20)) {
    LOGE("Broker %lld: ring of %lld slots x %lld bytes = %llu bytes exceeds --ring-max-mb=%lld; refusing to start "
         "(exit %d: %s)", b, (long long)s.ring_slots, (long long)s.slot_bytes, ring_bytes, (long long)s.ring_max_mb,
         exit_value(ExitCode::kRingTooLarge), exit_code_text(ExitCode::kRingTooLarge));
    return exit_value(ExitCode::kRingTooLarge);
  }
  LOGI("Starting Embarlet broker_id: %lld", b);
  LOGI("NetworkManager: Using blocking mode (EMBARCADERO_USE_NONBLOCKING=0)");
  LOGI("[BrokerConfig] broker=%lld port=%lld stall_timers=%d stall_threshold_ms=%lld ring_slots=%lld slot_bytes=%lld "
       "max_connections=%lld", b, (long long)s.port, kStallTimers ? 1 : 0, (long long)s.stall_threshold_ms,
       (long long)s.ring_slots, (long long)s.slot_bytes, (long long)s.max_connections);
  if (s.consume_delay_ms > 0)
    LOGI("[Fault] consume_delay ms=%lld ring_slots=%lld", (long long)s.consume_delay_ms, (long long)s.ring_slots);
  if (s.recv_delay_us > 0)
    LOGI("[Fault] recv_delay us=%lld recv_cap_bytes=65536", (long long)s.recv_delay_us);
  if (s.ack_stall_after > 0) LOGI("[Fault] ack_stall after_messages=%lld", (long long)s.ack_stall_after);
  // The slow consumer and the slow recv act on every connection from now on: their windows span the broker's life.
  if (s.consume_delay_ms > 0) fault_window("start", "consume_delay", b);
  if (s.recv_delay_us > 0) fault_window("start", "recv_delay", b);
  BrokerState st(s, g_stop);
  if (!st.ring.ok()) {
    LOGE("Broker %lld: cannot map the ring (%llu bytes): %s", b, ring_bytes, std::strerror(errno));
    return exit_value(ExitCode::kResource);
  }
  uint16_t bound = 0;
  const int lfd = listen_on(s.bind_addr, static_cast<uint16_t>(s.port), &bound);
  if (lfd < 0) {
    LOGE("Broker %lld: cannot listen on %s:%lld: %s", b, s.bind_addr.c_str(), (long long)s.port,
         std::strerror(errno));
    return exit_value(ExitCode::kListen);
  }
  if (!s.ready_file.empty()) {
    if (write_ready_file(s.ready_file, s.bind_addr, bound)) LOGI("Wrote readiness signal to %s", s.ready_file.c_str());
    else LOGW("Broker %lld: could not write readiness signal file %s: %s", b, s.ready_file.c_str(), std::strerror(errno));
  }
  if (!spawn_worker(st, [&st] { run_consumer(st); }) || !spawn_worker(st, [&st, lfd] { accept_loop(st, lfd); }))
    return exit_value(ExitCode::kResource);
  const int sig = wait_for_shutdown_signal();
  LOGI("Broker %lld received signal %d (%s), shutting down", b, sig, strsignal(sig));
  g_stop.store(true);
  const int64_t deadline = now_us() + 1500 * 1000;  // blocked reads wake within 1 s (SO_RCVTIMEO)
  while (st.live_threads.load() > 0 && now_us() < deadline) sleep_us(10 * 1000);
  if (st.live_threads.load() > 0)
    LOGW("Broker %lld: %d worker threads still running at exit", b, st.live_threads.load());
  if (s.consume_delay_ms > 0) fault_window("stop", "consume_delay", b);
  if (s.recv_delay_us > 0) fault_window("stop", "recv_delay", b);
  log_metrics(st);
  ::_exit(exit_value(ExitCode::kOk));  // detached workers may still hold references to st
}

}  // namespace
}  // namespace sl

int main(int argc, char** argv) { return sl::run(argc, argv); }
