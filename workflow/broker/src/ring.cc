#include "ring.h"

#include <sys/mman.h>

#include <chrono>

namespace sl {

Ring::Ring(size_t slots, size_t slot_bytes) : slot_bytes_(slot_bytes), states_(slots) {
  map_bytes_ = slots * slot_bytes;
  if (slots == 0 || slot_bytes == 0) return;
  for (size_t b = slots; b > 0; --b) free_buffers_.push_back(b - 1);  // buffer 0 is taken first
  void* p = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p != MAP_FAILED) base_ = static_cast<char*>(p);
}

Ring::~Ring() {
  if (base_) munmap(base_, map_bytes_);
}

bool Ring::reserve(size_t* index) {
  std::lock_guard<std::mutex> lock(mu_);
  if (used_ == states_.size()) return false;
  Entry& e = states_[head_];
  e.state = State::kReserved;
  e.num_msg = 0;
  e.bytes = 0;
  e.valid = false;
  e.buffer = free_buffers_.back();
  free_buffers_.pop_back();
  *index = head_;
  head_ = (head_ + 1) % states_.size();
  ++used_;
  return true;
}

void Ring::complete(size_t index, uint32_t num_msg, uint64_t bytes, bool valid) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry& e = states_[index];
    e.state = State::kDone;
    e.num_msg = num_msg;
    e.bytes = bytes;
    e.valid = valid;
  }
  cv_.notify_all();
}

bool Ring::wait_front(SlotInfo* out, int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  auto ready = [this] { return used_ > 0 && states_[tail_].state == State::kDone; };
  if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), ready)) return false;
  const Entry& e = states_[tail_];
  out->index = tail_;
  out->num_msg = e.num_msg;
  out->bytes = e.bytes;
  out->valid = e.valid;
  return true;
}

void Ring::free_front() {
  std::lock_guard<std::mutex> lock(mu_);
  if (used_ == 0 || states_[tail_].state != State::kDone) return;
  states_[tail_].state = State::kFree;
  free_buffers_.push_back(states_[tail_].buffer);
  tail_ = (tail_ + 1) % states_.size();
  --used_;
}

size_t Ring::in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return used_;
}

}  // namespace sl
