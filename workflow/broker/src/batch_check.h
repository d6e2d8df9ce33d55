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

}  // namespace sl
