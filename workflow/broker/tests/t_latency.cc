// The ACK latency histogram: bucket precision over random values, percentiles against a sorted copy, and the
// recorder's accounting (a batch is acknowledged once the broker's cumulative count covers it; the rest unacked).
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "check.h"
#include "latency.h"

using sl::LogLinearHistogram;

int main() {
  std::mt19937_64 rng(std::random_device{}());
  // Every value lands in a bucket whose highest equivalent is within 1 % above it (2 significant digits).
  for (int i = 0; i < 200000; ++i) {
    const int bits = int(rng() % 50);
    const uint64_t v = bits == 0 ? 0 : rng() >> (64 - bits);
    const uint64_t hi = LogLinearHistogram::highest_equivalent(LogLinearHistogram::index_of(v));
    CHECK(hi >= v);
    CHECK(double(hi - v) <= 0.01 * double(v) + 1.0);
    CHECK(LogLinearHistogram::index_of(v) < LogLinearHistogram::kBuckets);
  }
  // Bucket indexes are monotone in the value.
  for (uint64_t v = 1; v < 1000000; v += 1 + v / 50)
    CHECK(LogLinearHistogram::index_of(v) >= LogLinearHistogram::index_of(v - 1));
  // Percentiles agree with the exact order statistic to 1 %.
  LogLinearHistogram h;
  std::vector<uint64_t> vals;
  std::lognormal_distribution<double> dist(8.0, 1.5);
  const int n = 1000 + int(rng() % 50000);
  for (int i = 0; i < n; ++i) {
    const uint64_t v = uint64_t(dist(rng));
    vals.push_back(v);
    h.record(v);
  }
  std::sort(vals.begin(), vals.end());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    size_t rank = size_t(p / 100.0 * n + 0.999999999);
    const uint64_t exact = vals[std::max<size_t>(rank, 1) - 1];
    const uint64_t got = h.percentile(p);
    CHECK(got >= exact && double(got - exact) <= 0.01 * double(exact) + 1.0);
  }
  CHECK(h.percentile(100) == vals.back() && h.max() == vals.back() && h.count() == uint64_t(n));
  // Recorder: 5 batches of 10 messages to broker 0; the broker acknowledges 25 messages, so 2 batches are
  // acknowledged, 3 are left (the third is only half covered).
  sl::AckLatency lat(2, true);
  for (int i = 0; i < 5; ++i) lat.sent(0, 10, 0);
  lat.acked(0, 25, 1000);
  lat.acked(1, 99, 1000);  // nothing dispatched to broker 1: nothing to account
  CHECK(lat.counts(0).first == 2 && lat.counts(0).second == 3);
  CHECK(lat.counts(1).first == 0 && lat.counts(1).second == 0);
  lat.sent(1, 10, 0);  // dispatched after its ACK arrived: recorded at once, not left waiting
  CHECK(lat.counts(1).first == 1 && lat.counts(1).second == 0);
  lat.acked(0, 50, 2000);
  CHECK(lat.counts(0).first == 5 && lat.counts(0).second == 0);
  lat.log_summary();
  // ACK series: bounded slots; the count at each step's end, steps without an ACK keep the previous count.
  sl::AckSeries s;
  s.record(50000, 3);
  s.record(350000, 9);
  CHECK(s.values() == "3,3,3,9" && s.step_us() == 100000);
  const int64_t hour_us = 3600LL * 1000000;
  for (int64_t t = 0; t <= hour_us; t += 7000000) s.record(t, uint64_t(t / 1000));
  CHECK(s.step_us() > 100000 && int64_t(sl::AckSeries::kMaxSlots) * s.step_us() > hour_us);
  CHECK(s.values().size() < 40 * sl::AckSeries::kMaxSlots);
  return 0;
}
