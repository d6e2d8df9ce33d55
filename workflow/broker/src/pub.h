// refpub: throughput_test-style publisher. Shared types of pub_main.cc, pub_send.cc, pub_ack.cc.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "latency.h"
#include "pub_tcpphase.h"
#include "tcpinfo.h"

namespace sl {

// Publisher settings; every field carries its unit.
struct PubSettings {
  int64_t msg_bytes = 1024;              // -m: payload bytes per message
  int64_t total_bytes = 10737418240LL;   // -s: total payload bytes (messages = s / m)
  int64_t threads_per_broker = 4;        // -n: connections per broker
  int64_t order = 0;                     // -o: order level (only 0 is implemented)
  int64_t ack_level = 0;                 // -a: 0 = no ACK wait, 1 = wait for ACKs
  int64_t ack_timeout_sec = 10;          // ACK wait timeout, seconds
  std::string brokers;                   // -b: host:port list, index = broker id
  std::string bind_addr = "127.0.0.1";   // --bind: the address the ACK listener binds (never 0.0.0.0)
  int64_t batch_bytes = 2097152;         // batch capacity, bytes
  std::string topic = "TestTopic";
  int64_t client_id = -1;                // -1 = random in [32, 999999]
  int64_t queue_depth = 4;               // batches per connection queue
  int64_t producer_cost_ns = 0;          // fault 1: producer cost per message, ns
  int64_t batch_gap_ms = 0;              // fault 2: sleep before every gap_every-th batch, ms
  int64_t gap_every = 1;                 // fault 2: period in batches of the fault connection
  int64_t gap_count = 0;                 // fault 2: at most this many gaps (0 = unlimited)
  int64_t fault_broker = 0;              // faults 2, 7, 8: broker whose first connection misbehaves
  int64_t init_delay_sec = 0;            // fault 6: delay before connecting, s
  int64_t header_pause_ms = 0;           // fault 7: pause after 64 header bytes, ms
  int64_t header_pause_count = 0;        // fault 7: number of batches so split
  int64_t payload_pause_ms = 0;          // fault 7: pause in the middle of the payload, ms
  int64_t payload_pause_count = 0;       // fault 7: number of batches so split
  bool close_mid_header = false;         // fault 8: send 40 header bytes after the last batch, then close
  int64_t linger_sec = 0;                // fault 9: keep data connections open after ACKs, s
  int64_t ack_latency = 1;               // record ACK latency per batch (0 = off: overhead measurement)
};

// One sealed batch: 128-byte BatchHeader followed by total_size payload bytes.
struct Batch {
  std::vector<char> buf;
  uint64_t seq = 0;
  uint32_t num_msg = 0;
  uint64_t total_size = 0;
};
using BatchPtr = std::unique_ptr<Batch>;

// Bounded FIFO between the producer and one sender.
class BatchQueue {
 public:
  explicit BatchQueue(size_t depth) : depth_(depth) {}
  bool try_push(BatchPtr& b);   // false when full (b is left untouched)
  bool pop(BatchPtr* out);      // blocks; false once closed and drained
  void close();
 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<BatchPtr> q_;
  size_t depth_;
  bool closed_ = false;
};

// Reusable batch buffers (the payload bytes are filled once, on allocation).
class BatchPool {
 public:
  BatchPtr get(size_t bytes);
  void put(BatchPtr b);
 private:
  std::mutex mu_;
  std::vector<BatchPtr> free_;
};

// One data connection (queue q = broker * n + k) and its sender statistics.
struct PubConn {
  PubConn(int b, int kk, int q, size_t depth) : broker(b), k(kk), queue_index(q), queue(depth) {}
  int broker, k, queue_index;
  int fd = -1;
  BatchQueue queue;
  bool fault_target = false;   // first connection of --fault-broker
  uint64_t batches = 0, bytes = 0, messages = 0, eagain = 0, failed = 0;
  int64_t send_blocked_us = 0;  // wall time inside send() calls
  TcpSample tcp;                // sampled just before close
  TcpMarks marks;               // phase-boundary snapshots (pub_tcpphase.cc)
};

// Everything the producer and senders share.
struct PubRun {
  PubRun(const PubSettings& settings, uint32_t cid, uint64_t total, uint64_t per_batch)
      : s(settings), client_id(cid), total_msgs(total), msgs_per_batch(per_batch) {}
  const PubSettings& s;
  uint32_t client_id;
  uint64_t total_msgs, msgs_per_batch;
  std::vector<std::unique_ptr<PubConn>> conns;
  BatchPool pool;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> batches_attempted{0};
  int64_t producer_busy_us = 0;   // publish_start to producer done
  int64_t deadline_us = 0;        // publish_start + ACK timeout: every message must be acknowledged by then (0 = none)
  std::atomic<bool> deadline_hit{false};  // the producer stopped at the deadline with messages left
  uint64_t produced_bytes = 0;
  AckLatency* latency = nullptr;  // per-batch ACK latency (latency.h); set before the threads start
};

void run_producer(PubRun& run);                 // pub_send.cc
void run_sender(PubRun& run, PubConn& c);       // pub_send.cc
void close_data_socket(PubConn& c);             // samples TCP_INFO, then closes
class AckCollector;
// Waits for ACKs, lingers, prints the result and per-connection lines; returns the exit code.
int finish_run(PubRun& run, AckCollector& acks, size_t nbrokers, int64_t t_start);  // pub_report.cc

// ACK side (pub_ack.cc).
class AckCollector {
 public:
  explicit AckCollector(size_t brokers) : acked_(brokers) {}
  ~AckCollector();
  // Accepts one ACK connection per broker on lfd within timeout_ms; returns how many arrived.
  size_t accept_all(int lfd, int timeout_ms);
  uint64_t total() const;
  uint64_t of(size_t broker) const { return acked_[broker].load(); }
  std::string per_broker_list() const;  // "B0=<n> B1=<n> ..."
  void set_latency(AckLatency* l) { latency_ = l; }  // before accept_all
  void shutdown();
 private:
  void read_loop(int fd, size_t broker);
  std::vector<std::atomic<uint64_t>> acked_;
  std::vector<int> fds_;
  std::vector<std::thread> readers_;
  std::atomic<bool> stop_{false};
  AckLatency* latency_ = nullptr;
};

}  // namespace sl
