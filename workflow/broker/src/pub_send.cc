// refpub data path: one producer fills batches and deals them round-robin (deflect-when-full) over the
// connection queues; one sender per connection sends header then payload, applying the fault knobs.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "fault_window.h"
#include "log.h"
#include "net.h"
#include "pub.h"
#include "wire.h"

namespace sl {

bool BatchQueue::try_push(BatchPtr& b) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (q_.size() >= depth_) return false;
    q_.push_back(std::move(b));
  }
  cv_.notify_one();
  return true;
}

bool BatchQueue::pop(BatchPtr* out) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !q_.empty() || closed_; });
  if (q_.empty()) return false;
  *out = std::move(q_.front());
  q_.pop_front();
  return true;
}

void BatchQueue::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

BatchPtr BatchPool::get(size_t bytes) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!free_.empty()) {
      BatchPtr b = std::move(free_.back());
      free_.pop_back();
      if (b->buf.size() >= bytes) return b;
    }
  }
  BatchPtr b(new Batch);
  b->buf.assign(bytes, 'x');  // payload content is filled once per buffer
  return b;
}

void BatchPool::put(BatchPtr b) {
  std::lock_guard<std::mutex> lock(mu_);
  free_.push_back(std::move(b));
}

namespace {

// Hands b to queue seq % Q, or the next queue with room; waits only when every queue is full.
void dispatch(PubRun& run, BatchPtr b) {
  const size_t n = run.conns.size();
  const size_t start = b->seq % n;
  const int64_t intended_us = now_us();  // sealed: from here on any wait is the system's delay
  const uint32_t msgs = b->num_msg;
  for (;;) {
    for (size_t i = 0; i < n; ++i) {
      PubConn& c = *run.conns[(start + i) % n];
      reinterpret_cast<BatchHeader*>(b->buf.data())->broker_id = uint32_t(c.broker);
      if (c.queue.try_push(b)) {
        if (run.latency != nullptr) run.latency->sent(size_t(c.broker), msgs, intended_us);
        return;
      }
    }
    sleep_us(50);
  }
}

}  // namespace

void run_producer(PubRun& run) {
  name_this_thread("producer");
  const uint64_t rec = padded_msg_bytes(uint64_t(run.s.msg_bytes));
  const int64_t cost_ns = run.s.producer_cost_ns;
  const int64_t t0 = now_us();
  if (cost_ns > 0) fault_window("start", "producer_cost");
  int64_t debt_ns = 0;
  uint64_t order = 0, seq = 0;
  while (order < run.total_msgs) {
    if (run.deadline_us > 0 && now_us() >= run.deadline_us) {  // too slow: stop, as a timed-out Publish() would
      run.deadline_hit = true;
      break;
    }
    const uint32_t k = uint32_t(std::min<uint64_t>(run.msgs_per_batch, run.total_msgs - order));
    BatchPtr b = run.pool.get(sizeof(BatchHeader) + run.msgs_per_batch * rec);
    b->seq = seq++;
    b->num_msg = k;
    b->total_size = uint64_t(k) * rec;
    auto* h = reinterpret_cast<BatchHeader*>(b->buf.data());
    std::memset(h, 0, sizeof *h);
    h->batch_seq = b->seq;
    h->client_id = run.client_id;
    h->num_msg = k;
    h->total_size = b->total_size;
    h->start_logical_offset = sizeof(BatchHeader);
    for (uint32_t i = 0; i < k; ++i) {
      auto* m = reinterpret_cast<MessageHeader*>(b->buf.data() + sizeof(BatchHeader) + i * rec);
      std::memset(m, 0, sizeof *m);
      m->paddedSize = rec;
      m->size = uint64_t(run.s.msg_bytes);
      m->client_order = order++;
      m->logical_offset = ~uint64_t{0};
      m->client_id = run.client_id;
      if (cost_ns > 0 && (debt_ns += cost_ns) >= 1000000) {  // pay the cost in sleeps of >= 1 ms
        const int64_t s0 = now_us();
        sleep_us(debt_ns / 1000);
        debt_ns -= (now_us() - s0) * 1000;
      }
    }
    run.produced_bytes += sizeof(BatchHeader) + b->total_size;
    run.batches_attempted.fetch_add(1);
    dispatch(run, std::move(b));
  }
  if (debt_ns > 0) sleep_us(debt_ns / 1000);
  run.producer_busy_us = now_us() - t0;
  if (cost_ns > 0) fault_window("stop", "producer_cost");
  for (auto& c : run.conns) c->queue.close();
}

void close_data_socket(PubConn& c) {
  if (c.fd < 0) return;
  c.tcp = sample_tcp_info(c.fd);
  c.marks.closed_us = now_us();
  ::close(c.fd);
  c.fd = -1;
}

namespace {

bool send_split(PubRun& run, PubConn& c, const char* p, size_t n, size_t first, int64_t pause_ms, const char* fault) {
  if (!send_all(c.fd, p, first, &c.send_blocked_us, &c.eagain, &run.stop)) return false;
  fault_window("start", fault, c.broker, c.k);
  sleep_us(pause_ms * 1000);
  fault_window("stop", fault, c.broker, c.k);
  return send_all(c.fd, p + first, n - first, &c.send_blocked_us, &c.eagain, &run.stop);
}

}  // namespace

void run_sender(PubRun& run, PubConn& c) {
  name_this_thread("sender");
  const PubSettings& s = run.s;
  uint64_t seen = 0;
  int64_t gaps = 0, header_pauses = 0, payload_pauses = 0;
  BatchPtr b;
  while (c.queue.pop(&b)) {
    ++seen;
    if (c.failed > 0) {  // keep draining so the producer never waits on a dead connection
      ++c.failed;
      run.pool.put(std::move(b));
      continue;
    }
    const bool target = c.fault_target;
    if (target && s.batch_gap_ms > 0 && seen % uint64_t(std::max<int64_t>(1, s.gap_every)) == 0 &&
        (s.gap_count == 0 || gaps < s.gap_count)) {
      ++gaps;
      fault_window("start", "batch_gap", c.broker, c.k);
      sleep_us(s.batch_gap_ms * 1000);
      fault_window("stop", "batch_gap", c.broker, c.k);
    }
    const char* p = b->buf.data();
    const size_t hb = sizeof(BatchHeader);
    bool ok;
    if (target && s.header_pause_ms > 0 && header_pauses < s.header_pause_count) {
      ++header_pauses;
      ok = send_split(run, c, p, hb, 64, s.header_pause_ms, "header_pause");
    } else {
      ok = send_all(c.fd, p, hb, &c.send_blocked_us, &c.eagain, &run.stop);
    }
    if (ok && target && s.payload_pause_ms > 0 && payload_pauses < s.payload_pause_count) {
      ++payload_pauses;
      ok = send_split(run, c, p + hb, b->total_size, b->total_size / 2, s.payload_pause_ms, "payload_pause");
    } else if (ok) {
      ok = send_all(c.fd, p + hb, b->total_size, &c.send_blocked_us, &c.eagain, &run.stop);
    }
    if (!ok) {
      LOGE("PublishThread[%d] for BROKER %d: send of batch_seq=%llu (client_id=%u) did not complete: %s",
           c.queue_index, c.broker, (unsigned long long)b->seq, run.client_id, std::strerror(errno));
      ++c.failed;
    } else {
      ++c.batches;
      c.bytes += b->total_size;
      c.messages += b->num_msg;
    }
    run.pool.put(std::move(b));
  }
  if (seen == 0)
    LOGE("PublishThread[%d] for BROKER %d: EXITING WITH ZERO BATCHES SENT! This thread read from buffer %d but got "
         "no data. publish_finished=1, shutdown=0", c.queue_index, c.broker, c.queue_index);
  if (c.fault_target && s.close_mid_header && c.failed == 0) {
    char partial[40];
    std::memset(partial, 0, sizeof partial);
    fault_window("start", "close_mid_header", c.broker, c.k);
    send_all(c.fd, partial, sizeof partial, &c.send_blocked_us, &c.eagain, &run.stop);
    close_data_socket(c);
    fault_window("stop", "close_mid_header", c.broker, c.k);
  }
  if (s.linger_sec <= 0 || c.failed > 0) close_data_socket(c);
}

}  // namespace sl
