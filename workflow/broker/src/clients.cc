#include "clients.h"

namespace sl {

std::shared_ptr<ClientAcks> ClientTable::hold(uint32_t client_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = map_[client_id];
  if (!e.acks) e.acks = std::make_shared<ClientAcks>(client_id);
  ++e.holders;
  return e.acks;
}

void ClientTable::drop_locked(uint32_t client_id) {
  auto it = map_.find(client_id);
  if (it == map_.end()) return;
  if (--it->second.holders <= 0) map_.erase(it);
}

void ClientTable::release(uint32_t client_id) {
  std::lock_guard<std::mutex> lock(mu_);
  drop_locked(client_id);
}

std::shared_ptr<ClientAcks> ClientTable::claim_ack_thread(uint32_t client_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(client_id);
  if (it == map_.end() || it->second.ack_thread) return nullptr;
  it->second.ack_thread = true;
  ++it->second.holders;
  return it->second.acks;
}

void ClientTable::release_ack_thread(uint32_t client_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(client_id);
  if (it == map_.end()) return;
  it->second.ack_thread = false;
  drop_locked(client_id);
}

bool ClientTable::add_written(uint32_t client_id, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(client_id);
  if (it == map_.end()) return false;
  it->second.acks->written.fetch_add(n);
  return true;
}

size_t ClientTable::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return map_.size();
}

}  // namespace sl
