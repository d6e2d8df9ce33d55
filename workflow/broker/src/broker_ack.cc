// ACK channel, consumer and worker plumbing shared by refbroker and rawsink.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "broker.h"
#include "fault_window.h"
#include "log.h"
#include "net.h"

namespace sl {
namespace {

// Sends client_id's own cumulative count (acks->written) until the publisher closes the channel or stop.
void run_ack_thread(BrokerState& st, const std::shared_ptr<ClientAcks>& acks, uint16_t port, uint32_t ack_level,
                    const std::string& topic) {
  const uint32_t client_id = acks->client_id;
  const long long b = st.settings.id;
  LOGI("AckThread: Starting for broker %lld, topic='%s' (len=%zu), ack_level=%u", b, topic.c_str(),
       topic.size(), ack_level);
  int fd = -1;
  int err = 0;
  for (int attempt = 1; attempt <= 5 && fd < 0 && !st.stop.load(); ++attempt) {
    fd = connect_to(st.settings.ack_host, port, 1000);
    if (fd < 0) {
      err = errno;
      sleep_us(200 * 1000);
    }
  }
  if (fd < 0) {
    LOGE("AckThread: broker %lld could not open the ACK channel to %s:%u for client_id=%u: %s", b,
         st.settings.ack_host.c_str(), port, client_id, std::strerror(err));
    return;
  }
  set_socket_timeouts(fd, 1, 1);
  LOGI("SetupAcknowledgmentSocket: Broker %lld ACK connection established to %s:%u (sync)", b,
       st.settings.ack_host.c_str(), port);
  const int32_t id = static_cast<int32_t>(b);
  if (!send_all(fd, &id, sizeof id, nullptr, nullptr, &st.stop)) {
    LOGE("AckThread: broker %lld could not send broker_id to client_id=%u: %s", b, client_id,
         std::strerror(errno));
    ::close(fd);
    return;
  }
  LOGI("AckThread: Broker %lld sent broker_id to client for topic='%s'", b, topic.c_str());
  uint64_t next_to_ack = 0, last_sent = 0;
  bool frozen = false;
  int64_t last_log = now_us();
  while (!st.stop.load()) {
    const uint64_t w = acks->written.load();
    if (!frozen && w >= next_to_ack) {
      if (!send_all(fd, &w, sizeof w, nullptr, nullptr, &st.stop)) break;
      last_sent = w;
      next_to_ack = w + 1;
      uint64_t prev = st.ack_sent.load();
      while (prev < w && !st.ack_sent.compare_exchange_weak(prev, w)) {
      }
      if (st.settings.ack_stall_after > 0 && w >= uint64_t(st.settings.ack_stall_after)) {
        frozen = true;
        fault_window("start", "ack_stall", b);
      }
    }
    const int64_t now = now_us();
    if (now - last_log >= 3000000) {
      LOGI("Broker:%lld Acknowledgments %llu (next_to_ack=%llu, ordered=0, ack_level=%u)", b,
           (unsigned long long)last_sent, (unsigned long long)next_to_ack, ack_level);
      last_log = now;
    }
    char c;
    if (::recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) == 0) break;  // publisher closed the ACK channel
    sleep_us(1000);
  }
  if (frozen) fault_window("stop", "ack_stall", b);
  LOGI("Acknowledgment connection closed: %d", fd);
  LOGI("AckThread for broker %lld exiting - publisher disconnected", b);
  ::close(fd);
}

}  // namespace

bool spawn_worker(BrokerState& st, std::function<void()> fn) {
  st.live_threads.fetch_add(1);
  try {
    std::thread([&st, fn] {
      fn();
      st.live_threads.fetch_sub(1);
    }).detach();
  } catch (const std::exception& ex) {
    st.live_threads.fetch_sub(1);
    LOGE("Broker %lld: cannot start a worker thread: %s", (long long)st.settings.id, ex.what());
    return false;
  }
  return true;
}

bool validate_handshake(const Handshake& hs, std::string* reason) {
  if (hs.request != kRequestPublish) {
    *reason = "request=" + std::to_string(hs.request) + " is not publish (0)";
  } else if (hs.ack > 2) {
    *reason = "ack level " + std::to_string(hs.ack) + " out of range 0..2";
  } else if (std::memchr(hs.topic, '\0', sizeof hs.topic) == nullptr) {
    *reason = "topic is not NUL-terminated within 32 bytes";
  } else if (hs.topic[0] == '\0') {
    *reason = "Topic cannot be null";
  } else if (hs.port > 65535) {
    *reason = "ACK port " + std::to_string(hs.port) + " out of range";
  } else {
    return true;
  }
  return false;
}

bool ensure_ack_thread(BrokerState& st, const Handshake& hs) {
  if (hs.port == 0) return true;  // no ACK channel requested
  std::shared_ptr<ClientAcks> acks = st.clients.claim_ack_thread(hs.client_id);
  if (!acks) return true;  // this publisher has its ACK thread already
  if (!take_channel(st, "ACK channel")) {
    st.clients.release_ack_thread(hs.client_id);
    return false;
  }
  const std::string topic(hs.topic);
  LOGI("HandlePublishRequest: Starting AckThread for broker %lld, topic='%s', client_id=%u",
       (long long)st.settings.id, topic.c_str(), hs.client_id);
  const uint32_t cid = hs.client_id, ack = hs.ack;
  const uint16_t port = static_cast<uint16_t>(hs.port);
  const bool started = spawn_worker(st, [&st, acks, port, ack, topic] {
    run_ack_thread(st, acks, port, ack, topic);
    st.clients.release_ack_thread(acks->client_id);
    give_channel(st);
  });
  if (!started) {
    st.clients.release_ack_thread(cid);
    give_channel(st);
  }
  return started;
}

bool take_channel(BrokerState& st, const char* what) {
  const int64_t cap = st.settings.max_connections;
  int64_t used = st.channels.load();
  while (used < cap && !st.channels.compare_exchange_weak(used, used + 1)) {
  }
  if (used < cap) return true;
  const uint64_t n = st.counters.refused.fetch_add(1) + 1;
  if (n <= 10 || n % 1000 == 0)
    LOGW("NetworkManager: connection cap reached on broker %lld (%lld of --max-connections=%lld data connections "
         "and ACK channels in use); refusing %s (refused so far: %llu)", (long long)st.settings.id,
         (long long)used, (long long)cap, what, (unsigned long long)n);
  return false;
}

void give_channel(BrokerState& st) { st.channels.fetch_sub(1); }

void run_consumer(BrokerState& st) {
  SlotInfo s;
  while (!st.stop.load()) {
    if (!st.ring.wait_front(&s, 100)) continue;
    if (s.valid && st.settings.consume_delay_ms > 0) {
      const int64_t until = now_us() + st.settings.consume_delay_ms * 1000;
      for (int64_t now = now_us(); now < until && !st.stop.load(); now = now_us())
        sleep_us(std::min<int64_t>(until - now, 50000));
    }
    uint32_t client_id = 0;
    if (s.valid) std::memcpy(&client_id, st.ring.slot_ptr(s.index) + offsetof(BatchHeader, client_id), sizeof client_id);
    st.ring.free_front();
    if (s.valid) {
      st.written.fetch_add(s.num_msg);
      st.clients.add_written(client_id, s.num_msg);  // false: nobody is left to ACK it
    }
  }
}

void block_shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int wait_for_shutdown_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return sig;
}

}  // namespace sl
