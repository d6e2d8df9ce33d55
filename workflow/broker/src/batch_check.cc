#include "batch_check.h"

#include <cstring>

namespace sl {

bool check_batch_header(const BatchHeader& h, uint32_t handshake_client, uint64_t payload_cap, std::string* reason) {
  // num_msg is 32 bits, so the product cannot overflow 64 bits.
  const uint64_t min_bytes = uint64_t{h.num_msg} * sizeof(MessageHeader);
  if (h.num_msg == 0) *reason = "num_msg=0";
  else if (h.total_size == 0) *reason = "total_size=0";
  else if (h.total_size > payload_cap) *reason = "total_size exceeds slot capacity " + std::to_string(payload_cap);
  else if (min_bytes > h.total_size)
    *reason = "num_msg=" + std::to_string(h.num_msg) + " needs at least " + std::to_string(min_bytes) +
              " bytes (64-byte message headers) but total_size=" + std::to_string(h.total_size);
  else if (h.client_id != handshake_client)
    *reason = "header client_id=" + std::to_string(h.client_id) + " differs";
  else return true;
  return false;
}

void PayloadWalk::feed(const char* payload, uint64_t received) {
  while (error_.empty() && off_ < total_) {
    const uint64_t left = total_ - off_;
    if (records_ == num_msg_) {
      error_ = std::to_string(left) + " bytes follow the num_msg=" + std::to_string(num_msg_) + " records";
      return;
    }
    if (left < sizeof(MessageHeader)) {
      error_ = "record " + std::to_string(records_) + " at offset " + std::to_string(off_) + " has " +
               std::to_string(left) + " bytes, less than its 64-byte header";
      return;
    }
    if (off_ + sizeof(MessageHeader) > received) return;  // this record's header has not arrived yet
    uint64_t padded = 0;
    std::memcpy(&padded, payload + off_ + offsetof(MessageHeader, paddedSize), sizeof padded);
    if (padded < sizeof(MessageHeader) || padded % 64 != 0 || padded > left) {
      error_ = "record " + std::to_string(records_) + " at offset " + std::to_string(off_) + " has paddedSize=" +
               std::to_string(padded) + " (a multiple of 64, 64.." + std::to_string(left) + " expected)";
      return;
    }
    off_ += padded;
    ++records_;
  }
}

bool PayloadWalk::finish(const char* payload, std::string* reason) {
  feed(payload, total_);
  if (error_.empty() && records_ != num_msg_)
    error_ = "num_msg=" + std::to_string(num_msg_) + " but the payload holds " + std::to_string(records_) + " records";
  if (error_.empty()) return true;
  *reason = error_;
  return false;
}

bool check_batch_payload(const BatchHeader& h, const char* payload, std::string* reason) {
  PayloadWalk walk(h);
  return walk.finish(payload, reason);
}

}  // namespace sl
