// refpub ACK listener side: one ACK connection per broker, 4-byte broker id then 8-byte cumulative counts.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "log.h"
#include "net.h"
#include "pub.h"

namespace sl {

AckCollector::~AckCollector() { shutdown(); }

size_t AckCollector::accept_all(int lfd, int timeout_ms) {
  const int64_t deadline = now_us() + int64_t(timeout_ms) * 1000;
  size_t got = 0;
  std::vector<bool> seen(acked_.size(), false);
  while (got < acked_.size()) {
    const int64_t left_ms = (deadline - now_us()) / 1000;
    if (left_ms <= 0) break;
    struct pollfd p{lfd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left_ms)) <= 0) continue;
    int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    set_socket_timeouts(fd, 1, 1);
    int32_t id = -1;
    struct pollfd q{fd, POLLIN, 0};
    RecvResult r;
    if (::poll(&q, 1, 2000) > 0) r = recv_exact(fd, &id, sizeof id, stop_);
    if (r.status != IoStatus::ok || r.bytes != sizeof id || id < 0 || size_t(id) >= acked_.size() || seen[id]) {
      LOGE("AckThread: rejected ACK connection fd=%d (broker id %d, status %d): %s", fd, id, int(r.status),
           std::strerror(r.err));
      ::close(fd);
      continue;
    }
    seen[id] = true;
    ++got;
    LOGI("AckThread: Received Broker ID %d from fd=%d", id, fd);
    fds_.push_back(fd);
    readers_.emplace_back([this, fd, id] { read_loop(fd, size_t(id)); });
  }
  return got;
}

void AckCollector::read_loop(int fd, size_t broker) {
  name_this_thread("ack");
  while (!stop_.load()) {
    uint64_t v = 0;
    RecvResult r = recv_exact(fd, &v, sizeof v, stop_);
    if (r.status != IoStatus::ok) break;
    const uint64_t prev = acked_[broker].load();
    if (v < prev) {
      LOGW("AckThread: Received non-monotonic ACK bytes on fd %d (broker %zu: %llu after %llu)", fd, broker,
           (unsigned long long)v, (unsigned long long)prev);
      continue;
    }
    acked_[broker].store(v);
    if (latency_ != nullptr) latency_->acked(broker, v, now_us());
  }
}

uint64_t AckCollector::total() const {
  uint64_t t = 0;
  for (const auto& a : acked_) t += a.load();
  return t;
}

std::string AckCollector::per_broker_list() const {
  std::string out;
  for (size_t b = 0; b < acked_.size(); ++b)
    out += (b ? " B" : "B") + std::to_string(b) + "=" + std::to_string(acked_[b].load());
  return out;
}

void AckCollector::shutdown() {
  stop_.store(true);
  for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  for (std::thread& t : readers_)
    if (t.joinable()) t.join();
  for (int fd : fds_) ::close(fd);
  fds_.clear();
  readers_.clear();
}

}  // namespace sl
