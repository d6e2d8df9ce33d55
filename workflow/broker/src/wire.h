// Publish wire protocol of Embarcadero e56e7c0 (x86-64, little-endian, native struct bytes).
// Layouts follow reference/embarcadero-dialect.md section 4.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sl {

// Sent once per data connection right after connect.
struct alignas(64) Handshake {
  uint32_t client_id;  // random id in [32, 999999]
  uint32_t ack;        // ack level (0, 1, 2)
  uint64_t num_msg;    // number of known brokers for publish
  uint64_t last_addr;  // unused for publish
  uint32_t port;       // client's ACK listener port (low 16 bits used)
  uint32_t request;    // 0 = publish, 1 = subscribe
  char topic[32];      // NUL-terminated
};
static_assert(sizeof(Handshake) == 64, "Handshake must be 64 bytes");
static_assert(offsetof(Handshake, port) == 24, "Handshake.port offset");
static_assert(offsetof(Handshake, request) == 28, "Handshake.request offset");
static_assert(offsetof(Handshake, topic) == 32, "Handshake.topic offset");

constexpr uint32_t kRequestPublish = 0;

// Precedes every batch payload on the data connection.
struct alignas(64) BatchHeader {
  uint64_t batch_seq;             // per-client counter across all queues
  uint32_t client_id;
  uint32_t num_msg;
  uint32_t batch_complete;
  uint32_t broker_id;             // target broker
  uint32_t ordered;
  uint16_t epoch_created;
  uint16_t pad0;
  uint64_t batch_id;
  uint64_t pbr_absolute_index;
  uint64_t total_size;            // payload bytes that follow
  uint64_t start_logical_offset;  // client sets 128
  uint64_t log_idx;
  uint64_t total_order;
  uint64_t batch_off_to_export;
  uint8_t padding[40];
};
static_assert(sizeof(BatchHeader) == 128, "BatchHeader must be 128 bytes");
static_assert(offsetof(BatchHeader, client_id) == 8, "BatchHeader.client_id offset");
static_assert(offsetof(BatchHeader, num_msg) == 12, "BatchHeader.num_msg offset");
static_assert(offsetof(BatchHeader, broker_id) == 20, "BatchHeader.broker_id offset");
static_assert(offsetof(BatchHeader, batch_id) == 32, "BatchHeader.batch_id offset");
static_assert(offsetof(BatchHeader, total_size) == 48, "BatchHeader.total_size offset");
static_assert(offsetof(BatchHeader, batch_off_to_export) == 80, "BatchHeader.batch_off_to_export");

// Precedes every message inside a batch payload; the record is padded to 64 bytes.
struct alignas(64) MessageHeader {
  uint64_t paddedSize;  // header + data + pad
  uint64_t segment_header;
  uint64_t logical_offset;  // client sets (size_t)-1
  uint64_t next_msg_diff;
  uint64_t total_order;
  uint64_t client_order;  // running per-message index
  uint64_t client_id;
  uint64_t size;  // payload bytes
};
static_assert(sizeof(MessageHeader) == 64, "MessageHeader must be 64 bytes");
static_assert(offsetof(MessageHeader, client_order) == 40, "MessageHeader.client_order offset");
static_assert(offsetof(MessageHeader, size) == 56, "MessageHeader.size offset");

constexpr uint64_t align64(uint64_t n) { return (n + 63) & ~uint64_t{63}; }
constexpr uint64_t padded_msg_bytes(uint64_t msg_bytes) { return align64(64 + msg_bytes); }
constexpr uint64_t kDefaultSlotBytes = align64(128 + (uint64_t{2} << 20));
static_assert(kDefaultSlotBytes == 2097280, "default slot size");
static_assert((uint64_t{2} << 20) / padded_msg_bytes(1024) == 1927, "1 KiB batch count");

}  // namespace sl
