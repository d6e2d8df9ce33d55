// One refbroker data connection: handshake, then per batch header recv (with the partial-read loop),
// ring slot reservation, payload recv into the slot, completion. All three recv sites are timed.
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "batch_check.h"
#include "broker.h"
#include "log.h"
#include "net.h"

namespace sl {
namespace {

// A payload recv asks for at most this much, so the records walked after it are still in cache (a whole
// 2 MiB batch per recv left the walk a chain of cache misses).
constexpr uint64_t kRecvChunk = 256 * 1024;

struct Connection {
  BrokerState& st;
  int fd;
  Handshake hs;
  int64_t threshold_us;
};

bool is_stall(const Connection& c, const RecvOnce& r) { return kStallTimers && r.waited_us >= c.threshold_us; }
long long ms_of(const RecvOnce& r) { return static_cast<long long>(r.waited_us / 1000); }

// Reads one 128-byte batch header; false ends the connection (close, error or stop), logged here.
bool recv_header(Connection& c, BatchHeader* h) {
  char* p = reinterpret_cast<char*>(h);
  RecvOnce r = recv_some(c.fd, p, sizeof *h, c.st.stop, kStallTimers);
  if (r.status == IoStatus::timeout) return false;
  if (is_stall(c, r)) {
    c.st.counters.stalls_header.fetch_add(1);
    LOGW("[STALL] recv batch header blocked %lldms client_id=%u bytes_read=%zd", ms_of(r), c.hs.client_id, r.ret);
  }
  if (r.status == IoStatus::closed) {
    LOGW("NetworkManager: Connection closed by publisher (client_id=%u, topic=%s). No batch data received. "
         "This may indicate publisher failed to send or disconnected early.", c.hs.client_id, c.hs.topic);
    return false;
  }
  if (r.status == IoStatus::error) {
    LOGE("Error receiving batch header (client_id=%u, broker=%lld): %s", c.hs.client_id,
         (long long)c.st.settings.id, std::strerror(r.err));
    return false;
  }
  size_t got = static_cast<size_t>(r.ret);
  while (got < sizeof *h) {
    r = recv_some(c.fd, p + got, sizeof *h - got, c.st.stop, kStallTimers);
    if (r.status == IoStatus::timeout) return false;
    if (is_stall(c, r)) {
      c.st.counters.stalls_partial.fetch_add(1);
      LOGW("[STALL] recv batch header (partial) blocked %lldms client_id=%u recv_ret=%zd", ms_of(r),
           c.hs.client_id, r.ret);
    }
    if (r.status == IoStatus::closed) {
      LOGW("NetworkManager: Connection closed by publisher during partial batch header read.");
      return false;
    }
    if (r.status == IoStatus::error) {
      LOGE("Error receiving batch header (client_id=%u, broker=%lld, partial %zu of 128 bytes): %s",
           c.hs.client_id, (long long)c.st.settings.id, got, std::strerror(r.err));
      return false;
    }
    got += static_cast<size_t>(r.ret);
  }
  return true;
}

// Reserves a ring slot, waiting (100 us retries) while the ring is full; false on stop.
bool reserve_slot(Connection& c, size_t* index) {
  if (c.st.ring.reserve(index)) return true;
  const uint64_t total = c.st.counters.ring_full.fetch_add(1) + 1;
  const bool loud = total <= 10 || total % 1000 == 0;
  for (uint64_t iter = 1;; ++iter) {
    if (loud && (iter == 1 || iter % 10000 == 0))
      LOGW("NetworkManager (blocking): Ring full, waiting for space (client_id=%u, wait_iterations=%llu, "
           "total_ring_full=%llu)", c.hs.client_id, (unsigned long long)iter, (unsigned long long)total);
    if (c.st.stop.load()) {
      LOGW("NetworkManager (blocking): Shutting down, closing connection to client_id=%u", c.hs.client_id);
      return false;
    }
    sleep_us(100);
    if (c.st.ring.reserve(index)) return true;
  }
}

// Receives the payload into the slot, walking its records as they arrive; false (slot abandoned) ends the
// connection.
bool recv_payload(Connection& c, const BatchHeader& h, size_t index, PayloadWalk* walk) {
  char* dst = c.st.ring.slot_ptr(index);
  std::memcpy(dst, &h, sizeof h);
  dst += sizeof h;
  const uint64_t total = h.total_size;
  const int64_t delay_us = c.st.settings.recv_delay_us;
  uint64_t got = 0;
  while (got < total) {
    if (delay_us > 0) sleep_us(delay_us);
    const uint64_t remaining = total - got;
    const size_t want = std::min<uint64_t>(remaining, delay_us > 0 ? 64 * 1024 : kRecvChunk);
    RecvOnce r = recv_some(c.fd, dst + got, want, c.st.stop, kStallTimers);
    if (r.status == IoStatus::ok) {
      if (is_stall(c, r)) {
        const uint64_t k = c.st.counters.stalls_payload.fetch_add(1) + 1;
        LOGW("[STALL] recv payload blocked %lldms batch_seq=%llu remaining=%llu total_stall_count=%llu", ms_of(r),
             (unsigned long long)h.batch_seq, (unsigned long long)remaining, (unsigned long long)k);
      }
      got += static_cast<uint64_t>(r.ret);
      walk->feed(dst, got);
      continue;
    }
    if (r.status == IoStatus::closed) {
      if (is_stall(c, r)) {
        const uint64_t k = c.st.counters.stalls_payload.fetch_add(1) + 1;
        LOGW("[STALL] recv payload blocked %lldms batch_seq=%llu remaining=%llu total_stall_count=%llu", ms_of(r),
             (unsigned long long)h.batch_seq, (unsigned long long)remaining, (unsigned long long)k);
      }
      LOGW("Connection closed while receiving message data (remaining=%llu, received=%llu of %llu bytes). "
           "Batch incomplete - will not mark batch_complete or send ACK.", (unsigned long long)remaining,
           (unsigned long long)got, (unsigned long long)total);
      LOGW("NetworkManager: Batch incomplete (received %llu of %llu bytes) for batch_seq=%llu. Closing "
           "connection to avoid stream desync.", (unsigned long long)got, (unsigned long long)total,
           (unsigned long long)h.batch_seq);
    } else if (r.status == IoStatus::error) {
      LOGE("Error receiving message data (client_id=%u, broker=%lld): %s", c.hs.client_id,
           (long long)c.st.settings.id, std::strerror(r.err));
    }
    c.st.ring.complete(index, 0, 0, false);
    return false;
  }
  return true;
}

void receive_batches(Connection& c) {
  BrokerCounters& k = c.st.counters;
  for (;;) {
    BatchHeader h;
    if (!recv_header(c, &h)) return;
    std::string reason;
    const uint64_t cap = uint64_t(c.st.settings.slot_bytes) - sizeof(BatchHeader);
    if (!check_batch_header(h, c.hs.client_id, cap, &reason)) {
      k.invalid_batches.fetch_add(1);
      LOGE("NetworkManager: Invalid batch header from client_id=%u on broker %lld (batch_seq=%llu, num_msg=%u, "
           "total_size=%llu): %s. Closing connection.", c.hs.client_id, (long long)c.st.settings.id,
           (unsigned long long)h.batch_seq, h.num_msg, (unsigned long long)h.total_size, reason.c_str());
      return;
    }
    size_t index = 0;
    if (!reserve_slot(c, &index)) return;
    PayloadWalk walk(h);
    if (!recv_payload(c, h, index, &walk)) return;
    if (!walk.finish(c.st.ring.slot_ptr(index) + sizeof h, &reason)) {
      k.invalid_batches.fetch_add(1);
      c.st.ring.complete(index, 0, 0, false);
      LOGE("NetworkManager: Invalid batch payload from client_id=%u on broker %lld (batch_seq=%llu, num_msg=%u, "
           "total_size=%llu): %s. Batch dropped (not acked), closing connection.", c.hs.client_id,
           (long long)c.st.settings.id, (unsigned long long)h.batch_seq, h.num_msg,
           (unsigned long long)h.total_size, reason.c_str());
      return;
    }
    k.bytes.fetch_add(h.total_size);
    k.messages.fetch_add(h.num_msg);
    const uint64_t n = k.batches.fetch_add(1) + 1;
    c.st.ring.complete(index, h.num_msg, h.total_size, true);
    if (n <= 10 || n % 5000 == 0)
      LOGI("NetworkManager: batch_data_complete total=%llu last_batch_seq=%llu client_id=%u total_size=%llu",
           (unsigned long long)n, (unsigned long long)h.batch_seq, c.hs.client_id,
           (unsigned long long)h.total_size);
  }
}

}  // namespace

void run_connection(BrokerState& st, int fd) {
  set_socket_timeouts(fd, 1, 1);
  const long long b = st.settings.id;
  Connection c{st, fd, {}, st.settings.stall_threshold_ms * 1000};
  RecvResult hr = recv_exact(fd, &c.hs, sizeof c.hs, st.stop, kStallTimers);
  if (hr.status == IoStatus::error) {
    LOGE("Error receiving handshake on broker %lld (fd=%d): %s", b, fd, std::strerror(hr.err));
  } else if (hr.status == IoStatus::closed) {
    LOGW("NetworkManager: broker %lld connection closed during handshake (received %zu of 64 bytes)", b, hr.bytes);
  } else if (hr.status == IoStatus::ok) {
    std::string reason;
    if (!validate_handshake(c.hs, &reason)) {
      LOGE("NetworkManager: Invalid handshake on broker %lld (client_id=%u): %s. Closing connection.", b,
           c.hs.client_id, reason.c_str());
    } else {
      st.clients.hold(c.hs.client_id);
      if (ensure_ack_thread(st, c.hs)) {
        receive_batches(c);
      } else {
        LOGE("NetworkManager: closing the publish connection of client_id=%u on broker %lld: no ACK channel "
             "under --max-connections=%lld", c.hs.client_id, b, (long long)st.settings.max_connections);
      }
      st.clients.release(c.hs.client_id);
    }
  }
  ::close(fd);
}

}  // namespace sl
