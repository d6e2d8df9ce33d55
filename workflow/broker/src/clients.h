// Per-publisher ACK counters. Embarcadero keeps one ACK channel and one AckThread per (broker, client_id);
// here each publisher's cumulative ACK also counts only its own messages, so a second publisher (or a
// forged one) cannot move another publisher's ACK.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace sl {

struct ClientAcks {
  explicit ClientAcks(uint32_t id) : client_id(id) {}
  const uint32_t client_id;
  std::atomic<uint64_t> written{0};  // this publisher's messages fully received and consumed (its ACK value)
};

// Entries live while a data connection or the ACK thread of that client holds them.
class ClientTable {
 public:
  // The entry of client_id (created on first use), held by the caller until release().
  std::shared_ptr<ClientAcks> hold(uint32_t client_id);
  // Gives back one hold; the entry is forgotten once nothing holds it.
  void release(uint32_t client_id);
  // Claims the single ACK thread of a held client_id (the claim counts as a hold); null when it has one
  // already or nothing holds the entry.
  std::shared_ptr<ClientAcks> claim_ack_thread(uint32_t client_id);
  // Ends the ACK thread's claim (and its hold).
  void release_ack_thread(uint32_t client_id);
  // Adds n consumed messages to client_id's counter; false when nothing holds the entry anymore.
  bool add_written(uint32_t client_id, uint64_t n);
  size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<ClientAcks> acks;
    int holders = 0;
    bool ack_thread = false;
  };
  void drop_locked(uint32_t client_id);
  mutable std::mutex mu_;
  std::unordered_map<uint32_t, Entry> map_;
};

}  // namespace sl
