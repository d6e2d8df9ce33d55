// Shared state of the reference broker (refbroker) and the raw sink (rawsink).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "clients.h"
#include "ring.h"
#include "wire.h"

namespace sl {

#ifdef SL_NO_STALL_TIMERS
constexpr bool kStallTimers = false;  // refbroker-notimers: never read the clock around recv
#else
constexpr bool kStallTimers = true;
#endif

// Broker settings; every field carries its unit.
struct BrokerSettings {
  int64_t id = 0;                                  // broker index (ACK channel identity)
  int64_t port = 0;                                // listen port on bind_addr
  std::string bind_addr = "127.0.0.1";             // the one address the data port listens on (never 0.0.0.0)
  std::string ack_host = "127.0.0.1";              // where the publisher's ACK listener is
  std::string ready_file;                          // path that gets "ready\n" once listening
  int64_t stall_threshold_ms = 50;                 // [STALL] threshold, milliseconds
  int64_t ring_slots = 64;                         // ring capacity, slots
  int64_t slot_bytes = int64_t(kDefaultSlotBytes); // bytes per slot (batch header + payload)
  int64_t ring_max_mb = 256;                       // refuse to start above this ring size, MiB
  int64_t consume_delay_ms = 0;                    // fault: consumer sleep per batch, milliseconds
  int64_t recv_delay_us = 0;                       // fault: sleep before each payload recv, microseconds
  int64_t ack_stall_after = 0;                     // fault: freeze ACK value once >= this, messages (0 off)
  int64_t max_connections = 256;                   // data connections + ACK channels served at once (a thread each)
};

// Process-wide counters reported in [BrokerMetrics].
struct BrokerCounters {
  std::atomic<uint64_t> stalls_header{0};
  std::atomic<uint64_t> stalls_partial{0};
  std::atomic<uint64_t> stalls_payload{0};  // also the total_stall_count of [STALL] payload lines
  std::atomic<uint64_t> ring_full{0};       // batches that found the ring full
  std::atomic<uint64_t> batches{0};         // batches fully received (batch_data_complete total)
  std::atomic<uint64_t> bytes{0};           // payload bytes of those batches
  std::atomic<uint64_t> messages{0};        // messages of those batches
  std::atomic<uint64_t> connections{0};     // data connections accepted
  std::atomic<uint64_t> refused{0};         // connections and ACK channels refused at --max-connections
  std::atomic<uint64_t> invalid_batches{0}; // batches whose header or payload contradicted num_msg/total_size
};

struct BrokerState {
  BrokerState(const BrokerSettings& s, const std::atomic<bool>& stop_flag)
      : settings(s), ring(s.ring_slots, s.slot_bytes), stop(stop_flag) {}
  const BrokerSettings settings;
  Ring ring;
  const std::atomic<bool>& stop;
  BrokerCounters counters;
  std::atomic<uint64_t> written{0};   // messages fully received and consumed, all publishers
  std::atomic<uint64_t> ack_sent{0};  // largest ACK value sent to any client
  std::atomic<int> live_threads{0};   // detached workers still running
  std::atomic<int64_t> channels{0};   // data connections and ACK channels being served (<= max_connections)
  ClientTable clients;                // per-publisher ACK counters
};

// Runs fn on a detached thread counted in live_threads; returns false if the thread could not start.
bool spawn_worker(BrokerState& st, std::function<void()> fn);
// Checks a publish handshake; fills *reason when it is not acceptable.
bool validate_handshake(const Handshake& hs, std::string* reason);
// Starts the ACK thread for hs.client_id (which the caller holds in st.clients) unless it has one already;
// false (logged) when the ACK channel would exceed --max-connections.
bool ensure_ack_thread(BrokerState& st, const Handshake& hs);
// Takes one of the --max-connections channels (one thread each) for `what`; false, logged, when all are in use.
bool take_channel(BrokerState& st, const char* what);
// Gives a channel back.
void give_channel(BrokerState& st);
// Frees completed ring slots in order, applies --consume-delay-ms, advances `written`.
void run_consumer(BrokerState& st);
// Serves one data connection until close, error or stop; closes fd.
void run_connection(BrokerState& st, int fd);
// Blocks until SIGTERM/SIGINT (already blocked in all threads); returns the signal number.
int wait_for_shutdown_signal();
// Blocks SIGTERM/SIGINT (inherited by threads created later) and ignores SIGPIPE.
void block_shutdown_signals();

}  // namespace sl
