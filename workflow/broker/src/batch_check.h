// What a batch claims against what it carries. A forged num_msg must never reach the ring or the ACK:
// the header is checked before anything is reserved, the payload before the batch is marked complete.
#pragma once
#include <cstdint>
#include <string>

#include "wire.h"

namespace sl {

// The header alone: num_msg >= 1; total_size in 1..payload_cap; every message at least its 64-byte
// MessageHeader (num_msg * 64 <= total_size); client_id that of the handshake. false fills *reason.
bool check_batch_header(const BatchHeader& h, uint32_t handshake_client, uint64_t payload_cap, std::string* reason);

// The received payload: walks the paddedSize chain as Embarcadero does before it marks a batch complete.
// Exactly num_msg records, each a multiple of 64 bytes and at least its header, filling total_size exactly.
bool check_batch_payload(const BatchHeader& h, const char* payload, std::string* reason);

// The same walk, fed as the payload arrives. Each step's offset comes from the record before it, so a walk
// over a whole 2 MiB batch after the fact is a chain of dependent cache misses (a fifth of the broker's CPU
// at loopback speed, measured); fed after each recv, it reads every header while its bytes are still cached.
class PayloadWalk {
 public:
  explicit PayloadWalk(const BatchHeader& h) : num_msg_(h.num_msg), total_(h.total_size) {}
  // Walks every record whose 64-byte header lies within the first `received` bytes of `payload`.
  void feed(const char* payload, uint64_t received);
  // Once the whole payload is in: check_batch_payload's answer and reason.
  bool finish(const char* payload, std::string* reason);

 private:
  uint32_t num_msg_;
  uint64_t total_;
  uint64_t off_ = 0;
  uint64_t records_ = 0;
  std::string error_;  // the first contradiction found; the walk stops there
};

}  // namespace sl
