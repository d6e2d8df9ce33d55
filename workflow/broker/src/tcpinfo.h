// TCP_INFO sampling (kernel chronographs); all #includes of <linux/tcp.h> for it live in tcpinfo.cc.
#pragma once
#include <cstdint>

namespace sl {

struct TcpSample {
  bool valid = false;
  uint64_t busy_us = 0;           // tcpi_busy_time: data in flight or queued
  uint64_t rwnd_limited_us = 0;   // tcpi_rwnd_limited: stalled by the receiver's window
  uint64_t sndbuf_limited_us = 0; // tcpi_sndbuf_limited: stalled by a full send buffer
  uint64_t bytes_acked = 0;       // tcpi_bytes_acked
  uint32_t total_retrans = 0;     // tcpi_total_retrans
  uint32_t snd_cwnd = 0;          // tcpi_snd_cwnd, segments
  uint32_t rtt_us = 0;            // tcpi_rtt
};

// Reads TCP_INFO from fd; returns a sample with valid=false on error.
TcpSample sample_tcp_info(int fd);

}  // namespace sl
