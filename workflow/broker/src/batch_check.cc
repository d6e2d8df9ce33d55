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

bool check_batch_payload(const BatchHeader& h, const char* payload, std::string* reason) {
  uint64_t off = 0;
  uint64_t records = 0;
  while (off < h.total_size) {
    const uint64_t left = h.total_size - off;
    if (records == h.num_msg) {
      *reason = std::to_string(left) + " bytes follow the num_msg=" + std::to_string(h.num_msg) + " records";
      return false;
    }
    if (left < sizeof(MessageHeader)) {
      *reason = "record " + std::to_string(records) + " at offset " + std::to_string(off) + " has " +
                std::to_string(left) + " bytes, less than its 64-byte header";
      return false;
    }
    uint64_t padded = 0;
    std::memcpy(&padded, payload + off + offsetof(MessageHeader, paddedSize), sizeof padded);
    if (padded < sizeof(MessageHeader) || padded % 64 != 0 || padded > left) {
      *reason = "record " + std::to_string(records) + " at offset " + std::to_string(off) + " has paddedSize=" +
                std::to_string(padded) + " (a multiple of 64, 64.." + std::to_string(left) + " expected)";
      return false;
    }
    off += padded;
    ++records;
  }
  if (records != h.num_msg) {
    *reason = "num_msg=" + std::to_string(h.num_msg) + " but the payload holds " + std::to_string(records) +
              " records";
    return false;
  }
  return true;
}

}  // namespace sl
