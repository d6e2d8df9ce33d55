#include "latency.h"

#include <algorithm>

#include "log.h"
#include "net.h"

namespace sl {

size_t LogLinearHistogram::index_of(uint64_t v) {
  if (v < 256) return size_t(v);
  const int msb = 63 - __builtin_clzll(v);  // >= 8
  const int shift = msb - kSubBits;          // v >> shift is in [128, 255]
  return 256 + size_t(shift - 1) * 128 + size_t((v >> shift) - 128);
}

uint64_t LogLinearHistogram::highest_equivalent(size_t index) {
  if (index < 256) return index;
  const int shift = int((index - 256) / 128) + 1;
  const uint64_t sub = (index - 256) % 128 + 128;
  return ((sub + 1) << shift) - 1;
}

void LogLinearHistogram::record(uint64_t v) {
  ++counts_[index_of(v)];
  ++total_;
  if (v > max_) max_ = v;
}

uint64_t LogLinearHistogram::percentile(double p) const {
  if (total_ == 0) return 0;
  uint64_t rank = uint64_t(p / 100.0 * double(total_) + 0.999999999);
  if (rank < 1) rank = 1;
  if (rank > total_) rank = total_;
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const uint64_t v = highest_equivalent(i);
      return v < max_ ? v : max_;
    }
  }
  return max_;
}

std::string LogLinearHistogram::nonempty_buckets() const {
  std::string out;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    if (!out.empty()) out += ',';
    out += std::to_string(highest_equivalent(i)) + ':' + std::to_string(counts_[i]);
  }
  return out;
}

void AckSeries::record(int64_t since_start_us, uint64_t cumulative) {
  if (since_start_us < 0) since_start_us = 0;
  size_t slot = size_t(since_start_us / step_us_);
  while (slot >= kMaxSlots) {  // merge pairs: the count at the end of a doubled step is the later slot's
    std::vector<uint64_t> merged((slots_.size() + 1) / 2);
    for (size_t i = 0; i < merged.size(); ++i)
      merged[i] = slots_[std::min(2 * i + 1, slots_.size() - 1)];
    slots_.swap(merged);
    step_us_ *= 2;
    slot = size_t(since_start_us / step_us_);
  }
  const uint64_t last = slots_.empty() ? 0 : slots_.back();
  if (slots_.size() <= slot) slots_.resize(slot + 1, last);  // steps without an ACK keep the count
  if (cumulative > slots_[slot]) slots_[slot] = cumulative;
}

std::string AckSeries::values() const {
  std::string out;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(slots_[i]);
  }
  return out;
}

AckLatency::AckLatency(size_t brokers, bool enabled) : enabled_(enabled) {
  for (size_t i = 0; i < brokers; ++i) b_.emplace_back(new PerBroker);
}

void AckLatency::sent(size_t broker, uint32_t msgs, int64_t intended_us) {
  if (!enabled_ || broker >= b_.size()) return;
  PerBroker& p = *b_[broker];
  std::lock_guard<std::mutex> lock(p.mu);
  p.dispatched += msgs;
  ++p.batches;
  if (p.acked >= p.dispatched)  // the ACK that covers it came before this call (fast path on loopback)
    p.hist.record(uint64_t(std::max<int64_t>(0, now_us() - intended_us)));
  else
    p.pending.emplace_back(p.dispatched, intended_us);
}

void AckLatency::acked(size_t broker, uint64_t cumulative, int64_t now) {
  if (!enabled_ || broker >= b_.size()) return;
  PerBroker& p = *b_[broker];
  std::lock_guard<std::mutex> lock(p.mu);
  if (cumulative > p.acked) p.acked = cumulative;
  if (t_start_us_ > 0) p.series.record(now - t_start_us_, p.acked);
  while (!p.pending.empty() && p.pending.front().first <= p.acked) {
    p.hist.record(uint64_t(std::max<int64_t>(0, now - p.pending.front().second)));
    p.pending.pop_front();
  }
}

std::pair<uint64_t, size_t> AckLatency::counts(size_t broker) {
  PerBroker& p = *b_.at(broker);
  std::lock_guard<std::mutex> lock(p.mu);
  return {p.hist.count(), p.pending.size()};
}

void AckLatency::log_summary() {
  if (!enabled_) {
    LOGI("[AckLatency] recording=off");
    return;
  }
  for (size_t b = 0; b < b_.size(); ++b) {
    PerBroker& p = *b_[b];
    std::lock_guard<std::mutex> lock(p.mu);
    const LogLinearHistogram& h = p.hist;
    LOGI("[AckLatency] broker=%zu batches=%llu acked=%llu unacked=%zu p50_us=%llu p90_us=%llu p99_us=%llu "
         "p999_us=%llu max_us=%llu", b, (unsigned long long)p.batches, (unsigned long long)h.count(),
         p.pending.size(), (unsigned long long)h.percentile(50), (unsigned long long)h.percentile(90),
         (unsigned long long)h.percentile(99), (unsigned long long)h.percentile(99.9), (unsigned long long)h.max());
    LOGI("[AckLatencyHist] broker=%zu buckets_us=%s", b, h.nonempty_buckets().c_str());
    LOGI("[AckSeries] broker=%zu step_ms=%lld acked=%s", b, (long long)(p.series.step_us() / 1000),
         p.series.values().c_str());
  }
}

}  // namespace sl
