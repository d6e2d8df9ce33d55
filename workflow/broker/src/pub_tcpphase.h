// refpub: TCP_INFO snapshots at phase boundaries, so the sender-limit chronographs can be read per phase.
// The kernel's timers are cumulative from the socket's start; the difference of two snapshots attributes a
// phase (see ../shared/reference/tcp-info.md). Kept apart from the send and report paths: they call one hook each.
#pragma once
#include <cstdint>
#include <vector>

#include "tcpinfo.h"

namespace sl {

struct PubRun;
struct PubConn;

// One snapshot of a data connection: when it was taken and what TCP_INFO said.
struct TcpMark {
  int64_t t_us = 0;
  TcpSample s;
};

// Snapshots of one connection, in time order (publish start, send done; the close sample ends the last phase).
struct TcpMarks {
  std::vector<TcpMark> marks;
  int64_t closed_us = 0;  // when close_data_socket sampled c.tcp
};

// Snapshots every open data connection now (call at a phase boundary, from the main thread).
void mark_tcp_phase(PubRun& run);
// Prints one [TcpPhase] line per connection and phase: publish (publish start to send done) and drain
// (send done to close), each with its wall time and the chronograph differences.
void log_tcp_phases(const PubRun& run);

}  // namespace sl
