// check_batch_header / check_batch_payload: a count the bytes cannot hold, or a payload that does not
// walk to exactly num_msg records, is refused; a well-formed batch passes.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "batch_check.h"
#include "check.h"
#include "wire.h"

namespace {

using sl::BatchHeader;
using sl::MessageHeader;

BatchHeader header(uint32_t num, uint64_t total) {
  BatchHeader h;
  std::memset(&h, 0, sizeof h);
  h.client_id = 7;
  h.num_msg = num;
  h.total_size = total;
  return h;
}

// num records of msg_bytes each, padded as refpub pads them.
std::vector<char> payload(uint32_t num, uint64_t msg_bytes) {
  const uint64_t rec = sl::padded_msg_bytes(msg_bytes);
  std::vector<char> p(num * rec, 'x');
  for (uint32_t i = 0; i < num; ++i) {
    MessageHeader m;
    std::memset(&m, 0, sizeof m);
    m.paddedSize = rec;
    m.size = msg_bytes;
    std::memcpy(p.data() + i * rec, &m, sizeof m);
  }
  return p;
}

void set_padded(std::vector<char>* p, uint64_t off, uint64_t v) { std::memcpy(p->data() + off, &v, sizeof v); }

// The walk fed as a receiver feeds it (chunks of 1..max_chunk bytes, drawn from `seed`) gives the whole
// walk's answer and reason: what arrives early is walked early, nothing is walked before it arrives.
bool fed_agrees(const BatchHeader& h, const std::vector<char>& p, uint32_t seed, uint64_t max_chunk) {
  std::string whole_why, fed_why;
  const bool whole = sl::check_batch_payload(h, p.data(), &whole_why);
  std::vector<char> arrived(p.size(), 0);  // bytes not yet received are zero, as in a fresh slot
  sl::PayloadWalk walk(h);
  uint64_t got = 0;
  while (got < p.size()) {
    seed = seed * 1103515245u + 12345u;
    const uint64_t n = std::min<uint64_t>(p.size() - got, 1 + (seed >> 8) % max_chunk);
    std::memcpy(arrived.data() + got, p.data() + got, n);
    got += n;
    walk.feed(arrived.data(), got);
  }
  const bool fed = walk.finish(arrived.data(), &fed_why);
  return fed == whole && fed_why == (whole ? std::string() : whole_why);
}

}  // namespace

int main() {
  const uint64_t cap = sl::kDefaultSlotBytes - sizeof(BatchHeader);
  std::string why;

  // Header: the forged count (2^32-1 messages in 64 bytes) and its neighbours.
  CHECK(!sl::check_batch_header(header(0xFFFFFFFFu, 64), 7, cap, &why) && why.find("num_msg=4294967295") == 0);
  CHECK(sl::check_batch_header(header(1, 64), 7, cap, &why));             // one bare header fits exactly
  CHECK(!sl::check_batch_header(header(2, 127), 7, cap, &why));           // one byte short of two headers
  CHECK(sl::check_batch_header(header(2, 128), 7, cap, &why));
  CHECK(!sl::check_batch_header(header(0, 64), 7, cap, &why) && why == "num_msg=0");
  CHECK(!sl::check_batch_header(header(1, 0), 7, cap, &why) && why == "total_size=0");
  CHECK(!sl::check_batch_header(header(1, cap + 1), 7, cap, &why));
  CHECK(sl::check_batch_header(header(1927, 1927 * 1088), 7, cap, &why));  // a full 2 MiB batch of 1 KiB
  CHECK(!sl::check_batch_header(header(1, 64), 8, cap, &why) && why.find("client_id") != std::string::npos);

  // Payload: well-formed batches of several message sizes pass.
  for (uint64_t msg : {0u, 1u, 63u, 64u, 100u, 1024u, 4096u}) {
    std::vector<char> p = payload(5, msg);
    CHECK(sl::check_batch_payload(header(5, p.size()), p.data(), &why));
  }
  std::vector<char> p = payload(10, 1024);
  const uint64_t total = p.size();
  // num_msg larger or smaller than the records present.
  CHECK(!sl::check_batch_payload(header(11, total), p.data(), &why) && why.find("holds 10 records") != std::string::npos);
  CHECK(!sl::check_batch_payload(header(9, total), p.data(), &why) && why.find("follow the num_msg=9") != std::string::npos);
  // A paddedSize that is zero, not a multiple of 64, or runs past the end.
  std::vector<char> q = p;
  set_padded(&q, 1088, 0);
  CHECK(!sl::check_batch_payload(header(10, total), q.data(), &why) && why.find("record 1 ") == 0);
  q = p;
  set_padded(&q, 0, 1000);
  CHECK(!sl::check_batch_payload(header(10, total), q.data(), &why));
  q = p;
  set_padded(&q, 9 * 1088, 1088 + 64);
  CHECK(!sl::check_batch_payload(header(10, total), q.data(), &why));
  // Records that merge two messages into one: fewer records than claimed.
  q = p;
  set_padded(&q, 0, 2 * 1088);
  CHECK(!sl::check_batch_payload(header(10, total), q.data(), &why) && why.find("holds 9 records") != std::string::npos);
  // A tail shorter than a header.
  std::vector<char> r = payload(2, 0);
  r.resize(r.size() + 32, 0);
  CHECK(!sl::check_batch_payload(header(3, r.size()), r.data(), &why) && why.find("less than its 64-byte header") != std::string::npos);

  // Fed in pieces as recv delivers them, the walk reaches the same answer and reason for every case above.
  std::vector<std::pair<BatchHeader, std::vector<char>>> cases = {
      {header(10, total), p}, {header(11, total), p}, {header(9, total), p}, {header(3, r.size()), r}};
  for (const auto& [off, v] : std::vector<std::pair<uint64_t, uint64_t>>{
           {1088, 0}, {0, 1000}, {9 * 1088, 1088 + 64}, {0, 2 * 1088}, {5 * 1088, 64}}) {
    q = p;
    set_padded(&q, off, v);
    cases.push_back({header(10, total), q});
  }
  for (const auto& [h, v] : cases)
    for (uint32_t seed = 1; seed <= 50; ++seed)
      for (uint64_t max_chunk : {1u, 7u, 64u, 1500u, 20000u}) CHECK(fed_agrees(h, v, seed, max_chunk));
  std::puts("t_batch ok");
  return 0;
}
