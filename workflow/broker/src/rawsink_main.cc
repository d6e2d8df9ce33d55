// rawsink: benchmark-only loopback TCP sink. Speaks the handshake + batch stream and sends cumulative
// ACKs like refbroker, but has no ring, no consumer and no stall timers. It is the anchor a broker's goodput is
// read against, so it must be the fastest receiver: by default it discards payloads in the kernel
// (recv(MSG_TRUNC): no copy at all); --recv-mode small reads them through one 64 KiB cache-resident buffer,
// whole into a buffer the size of the batch (the old, slower way: a cold copy of every byte).
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "batch_check.h"
#include "broker.h"
#include "exit_codes.h"
#include "flags.h"
#include "log.h"
#include "net.h"

namespace {
std::atomic<bool> g_stop{false};  // the only mutable global: set once by the signal thread
}  // namespace

namespace sl {
namespace {

constexpr uint64_t kMaxBatchBytes = uint64_t{64} << 20;
constexpr size_t kSmallBuffer = size_t{64} << 10;
enum class RecvMode { trunc, small, whole };

// Reads and drops n payload bytes: discarded in the kernel (trunc) or copied into `small` 64 KiB at a time.
RecvResult drop_payload(int fd, uint64_t n, RecvMode mode, std::vector<char>& small, const std::atomic<bool>& stop) {
  RecvResult res;
  while (res.bytes < n) {
    const size_t want = size_t(std::min<uint64_t>(n - res.bytes, mode == RecvMode::trunc ? n : kSmallBuffer));
    ssize_t got = ::recv(fd, small.data(), want, mode == RecvMode::trunc ? MSG_TRUNC : 0);
    if (got > 0) {
      res.bytes += size_t(got);
      continue;
    }
    if (got == 0) {
      res.status = IoStatus::closed;
      return res;
    }
    if (errno == EINTR) continue;
    if ((errno == EAGAIN || errno == EWOULDBLOCK) && !stop.load(std::memory_order_relaxed)) continue;
    res.status = (errno == EAGAIN || errno == EWOULDBLOCK) ? IoStatus::timeout : IoStatus::error;
    res.err = errno;
    return res;
  }
  return res;
}

void sink_connection(BrokerState& st, int fd, RecvMode mode) {
  set_socket_timeouts(fd, 1, 1);
  const long long b = st.settings.id;
  Handshake hs;
  RecvResult r = recv_exact(fd, &hs, sizeof hs, st.stop, false);
  std::string reason;
  if (r.status != IoStatus::ok || !validate_handshake(hs, &reason)) {
    if (r.status == IoStatus::ok || r.status == IoStatus::error)
      LOGE("rawsink %lld: rejected handshake (client_id=%u): %s", b, hs.client_id,
           r.status == IoStatus::ok ? reason.c_str() : std::strerror(r.err));
    ::close(fd);
    return;
  }
  st.clients.hold(hs.client_id);
  if (!ensure_ack_thread(st, hs)) {
    st.clients.release(hs.client_id);
    ::close(fd);
    return;
  }
  std::vector<char> buf, small(kSmallBuffer);
  for (;;) {
    BatchHeader h;
    r = recv_exact(fd, &h, sizeof h, st.stop, false);
    if (r.status == IoStatus::closed && r.bytes == 0) {
      LOGI("rawsink %lld: connection closed by publisher (client_id=%u)", b, hs.client_id);
      break;
    }
    if (r.status != IoStatus::ok) {
      if (r.status != IoStatus::timeout)
        LOGW("rawsink %lld: header read ended after %zu bytes (client_id=%u): %s", b, r.bytes, hs.client_id,
             r.status == IoStatus::error ? std::strerror(r.err) : "peer closed");
      break;
    }
    if (!check_batch_header(h, hs.client_id, kMaxBatchBytes, &reason)) {  // header only: no payload walk here
      LOGE("rawsink %lld: invalid batch header (client_id=%u): %s", b, hs.client_id, reason.c_str());
      break;
    }
    if (mode == RecvMode::whole) {
      if (buf.size() < h.total_size) buf.resize(h.total_size);
      r = recv_exact(fd, buf.data(), h.total_size, st.stop, false);
    } else {
      r = drop_payload(fd, h.total_size, mode, small, st.stop);
    }
    if (r.status != IoStatus::ok) {
      LOGW("rawsink %lld: payload read ended after %zu of %llu bytes (client_id=%u)", b, r.bytes,
           (unsigned long long)h.total_size, hs.client_id);
      break;
    }
    st.counters.batches.fetch_add(1);
    st.counters.bytes.fetch_add(h.total_size);
    st.counters.messages.fetch_add(h.num_msg);
    st.written.fetch_add(h.num_msg);
    st.clients.add_written(hs.client_id, h.num_msg);
  }
  st.clients.release(hs.client_id);
  ::close(fd);
}

void accept_loop(BrokerState& st, int lfd, RecvMode mode) {
  while (!st.stop.load()) {
    struct pollfd p{lfd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    st.counters.connections.fetch_add(1);
    if (!spawn_worker(st, [&st, fd, mode] { sink_connection(st, fd, mode); })) ::close(fd);
  }
  ::close(lfd);
}

int run(int argc, char** argv) {
  block_shutdown_signals();
  BrokerSettings s;
  s.ring_slots = 0;
  FlagSet f("rawsink");
  f.add_int("--id", &s.id, "broker index");
  f.add_int("--port", &s.port, "listen port on 127.0.0.1 (required)");
  f.add_str("--ready-file", &s.ready_file, "path that receives \"ready\\n\" once listening");
  std::string mode_name = "trunc";
  f.add_str("--recv-mode", &mode_name, "payload reads: trunc (discard in the kernel), small (64 KiB buffer), whole");
  std::string err;
  if (!f.parse(argc, argv, &err)) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return exit_value(err.rfind("usage:", 0) == 0 ? ExitCode::kOk : ExitCode::kUsage);
  }
  const RecvMode mode = mode_name == "small" ? RecvMode::small : mode_name == "whole" ? RecvMode::whole
                                                                                      : RecvMode::trunc;
  if (mode_name != "trunc" && mode_name != "small" && mode_name != "whole") {
    std::fprintf(stderr, "rawsink: --recv-mode must be trunc, small or whole\n");
    return exit_value(ExitCode::kUsage);
  }
  if (s.port <= 0 || s.port > 65535) {
    LOGE("rawsink %lld: --port must be in 1..65535", (long long)s.id);
    return exit_value(ExitCode::kUsage);
  }
  LOGI("Starting rawsink broker_id: %lld", (long long)s.id);
  BrokerState st(s, g_stop);
  uint16_t bound = 0;
  const int lfd = listen_local(uint16_t(s.port), &bound);
  if (lfd < 0) {
    LOGE("rawsink %lld: cannot listen on 127.0.0.1:%lld: %s", (long long)s.id, (long long)s.port, std::strerror(errno));
    return exit_value(ExitCode::kListen);
  }
  if (!s.ready_file.empty() && write_ready_file(s.ready_file))
    LOGI("Wrote readiness signal to %s", s.ready_file.c_str());
  if (!spawn_worker(st, [&st, lfd, mode] { accept_loop(st, lfd, mode); })) return exit_value(ExitCode::kResource);
  wait_for_shutdown_signal();
  g_stop.store(true);
  const int64_t deadline = now_us() + 1500 * 1000;
  while (st.live_threads.load() > 0 && now_us() < deadline) sleep_us(10 * 1000);
  LOGI("[SinkMetrics] broker=%lld batches=%llu bytes=%llu messages=%llu connections=%llu acked=%llu",
       (long long)s.id, (unsigned long long)st.counters.batches.load(), (unsigned long long)st.counters.bytes.load(),
       (unsigned long long)st.counters.messages.load(), (unsigned long long)st.counters.connections.load(),
       (unsigned long long)st.written.load());
  ::_exit(exit_value(ExitCode::kOk));
}

}  // namespace
}  // namespace sl

int main(int argc, char** argv) { return sl::run(argc, argv); }
