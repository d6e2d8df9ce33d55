// Sizes and offsets of the three wire structs (reference/embarcadero-dialect.md section 4).
#include <cstddef>
#include <cstdio>

#include "check.h"
#include "wire.h"

int main() {
  using namespace sl;
  CHECK(sizeof(Handshake) == 64 && alignof(Handshake) == 64);
  CHECK(offsetof(Handshake, client_id) == 0);
  CHECK(offsetof(Handshake, ack) == 4);
  CHECK(offsetof(Handshake, num_msg) == 8);
  CHECK(offsetof(Handshake, last_addr) == 16);
  CHECK(offsetof(Handshake, port) == 24);
  CHECK(offsetof(Handshake, request) == 28);
  CHECK(offsetof(Handshake, topic) == 32);

  CHECK(sizeof(BatchHeader) == 128 && alignof(BatchHeader) == 64);
  CHECK(offsetof(BatchHeader, batch_seq) == 0);
  CHECK(offsetof(BatchHeader, client_id) == 8);
  CHECK(offsetof(BatchHeader, num_msg) == 12);
  CHECK(offsetof(BatchHeader, batch_complete) == 16);
  CHECK(offsetof(BatchHeader, broker_id) == 20);
  CHECK(offsetof(BatchHeader, ordered) == 24);
  CHECK(offsetof(BatchHeader, epoch_created) == 28);
  CHECK(offsetof(BatchHeader, batch_id) == 32);
  CHECK(offsetof(BatchHeader, pbr_absolute_index) == 40);
  CHECK(offsetof(BatchHeader, total_size) == 48);
  CHECK(offsetof(BatchHeader, start_logical_offset) == 56);
  CHECK(offsetof(BatchHeader, log_idx) == 64);
  CHECK(offsetof(BatchHeader, total_order) == 72);
  CHECK(offsetof(BatchHeader, batch_off_to_export) == 80);
  CHECK(offsetof(BatchHeader, padding) == 88);

  CHECK(sizeof(MessageHeader) == 64);
  CHECK(offsetof(MessageHeader, paddedSize) == 0);
  CHECK(offsetof(MessageHeader, segment_header) == 8);
  CHECK(offsetof(MessageHeader, logical_offset) == 16);
  CHECK(offsetof(MessageHeader, next_msg_diff) == 24);
  CHECK(offsetof(MessageHeader, total_order) == 32);
  CHECK(offsetof(MessageHeader, client_order) == 40);
  CHECK(offsetof(MessageHeader, client_id) == 48);
  CHECK(offsetof(MessageHeader, size) == 56);

  CHECK(padded_msg_bytes(1024) == 1088);
  CHECK(kDefaultSlotBytes == 2097280);
  CHECK(2097152 / padded_msg_bytes(1024) == 1927);
  std::puts("t_wire ok");
  return 0;
}
