// ACK latency of refpub: per broker, the time from a batch's intended send to the ACK that covers it, in a
// log-linear histogram (HdrHistogram's bucket layout: 128 linear sub-buckets per power of two, so every value is
// kept to better than 1 % -- more than 2 significant digits -- in 7424 counters, whatever the run's length).
//
// Intended send time = when the producer sealed the batch, before it waits for room in a connection queue: a
// sender blocked by a stalled broker delays the batches queued behind it, and that delay is counted
// (coordinated omission). ACKs are cumulative message counts per broker, so a batch counts as acknowledged once
// the broker's count reaches every message dispatched to it up to and including that batch, in dispatch order.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace sl {

class LogLinearHistogram {
 public:
  static constexpr int kSubBits = 7;                         // 128 sub-buckets per power of two above 255
  static constexpr size_t kBuckets = 256 + 56 * 128;         // values up to 2^63
  LogLinearHistogram() : counts_(kBuckets, 0) {}
  static size_t index_of(uint64_t v);
  static uint64_t highest_equivalent(size_t index);          // the largest value that lands in `index`
  void record(uint64_t v);
  uint64_t count() const { return total_; }
  uint64_t max() const { return max_; }
  // Highest equivalent value of the bucket holding the ceil(p/100 * count)-th smallest value (<= max); 0 if empty.
  uint64_t percentile(double p) const;
  std::string nonempty_buckets() const;                      // "<highest equivalent>:<count>,..." ascending

 private:
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0, max_ = 0;
};

// The acknowledged count of one broker over time, in at most kMaxSlots slots: when the run outgrows them, pairs
// of slots merge and the step doubles, so memory and the log line stay bounded for a run of any length.
class AckSeries {
 public:
  static constexpr size_t kMaxSlots = 2000;
  void record(int64_t since_start_us, uint64_t cumulative);
  int64_t step_us() const { return step_us_; }
  std::string values() const;  // cumulative count at the end of each step, "0,12,40,..."
 private:
  std::vector<uint64_t> slots_;
  int64_t step_us_ = 100000;
};

class AckLatency {
 public:
  AckLatency(size_t brokers, bool enabled);
  bool enabled() const { return enabled_; }
  void start(int64_t t_start_us) { t_start_us_ = t_start_us; }  // publish start: the ACK series' origin
  void sent(size_t broker, uint32_t msgs, int64_t intended_us);       // producer, in dispatch order
  void acked(size_t broker, uint64_t cumulative, int64_t now);         // the broker's ACK reader
  // Per broker one "[AckLatency] broker=<b> ..." line, one "[AckLatencyHist] broker=<b> buckets_us=..." line and
  // one "[AckSeries] broker=<b> step_ms=<n> acked=..." line (from publish start); waiting batches count as unacked.
  void log_summary();
  // (batches acknowledged, batches still waiting) of one broker.
  std::pair<uint64_t, size_t> counts(size_t broker);

 private:
  struct PerBroker {
    std::mutex mu;
    std::deque<std::pair<uint64_t, int64_t>> pending;  // (messages dispatched through this batch, intended µs)
    uint64_t dispatched = 0, acked = 0, batches = 0;
    LogLinearHistogram hist;
    AckSeries series;
  };
  std::vector<std::unique_ptr<PerBroker>> b_;
  bool enabled_;
  int64_t t_start_us_ = 0;
};

}  // namespace sl
