// Bounded ring of fixed-size slots. Receivers reserve slots in order and complete them in any
// order; one consumer frees them strictly in reservation order. A slot's memory is the buffer freed last
// (a stack), not the slot's own: a ring that is mostly empty receives into memory still in cache instead
// of cycling every batch through all of it (64 slots x 2 MiB per broker made the receive copy a
// cold-memory copy, about a tenth of loopback goodput, measured).
#pragma once
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace sl {

// What the consumer learns about the front slot.
struct SlotInfo {
  size_t index = 0;
  uint32_t num_msg = 0;
  uint64_t bytes = 0;
  bool valid = false;  // false: the receiver abandoned the slot (connection closed mid-payload)
};

class Ring {
 public:
  Ring(size_t slots, size_t slot_bytes);  // memory is mapped lazily (MAP_NORESERVE)
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  bool ok() const { return base_ != nullptr; }
  size_t slots() const { return states_.size(); }
  size_t slot_bytes() const { return slot_bytes_; }
  // The reserved slot's buffer (fixed from reserve to free_front).
  char* slot_ptr(size_t index) const { return base_ + states_[index].buffer * slot_bytes_; }

  // Reserves the next slot; returns false when all slots are in use.
  bool reserve(size_t* index);
  // Marks a reserved slot finished (valid = fully received) and wakes the consumer.
  void complete(size_t index, uint32_t num_msg, uint64_t bytes, bool valid);
  // Waits up to timeout_ms for the oldest slot to be completed; fills *out and returns true if so.
  bool wait_front(SlotInfo* out, int timeout_ms);
  // Frees the oldest slot (must be complete).
  void free_front();
  size_t in_use() const;

 private:
  enum class State : uint8_t { kFree, kReserved, kDone };
  struct Entry {
    State state = State::kFree;
    uint32_t num_msg = 0;
    uint64_t bytes = 0;
    bool valid = false;
    size_t buffer = 0;  // which slot_bytes_ block of the mapping holds this slot's data
  };
  char* base_ = nullptr;
  size_t map_bytes_ = 0;
  size_t slot_bytes_;
  std::vector<Entry> states_;
  std::vector<size_t> free_buffers_;  // buffers not held by a slot, the most recently freed last
  size_t head_ = 0;   // next slot to reserve
  size_t tail_ = 0;   // oldest slot not yet freed
  size_t used_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace sl
