#include "tcpinfo.h"

#include <linux/tcp.h>  // struct tcp_info with chronographs; not <netinet/tcp.h> (clashes, older struct)
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace sl {

TcpSample sample_tcp_info(int fd) {
  TcpSample s;
  struct tcp_info ti;
  std::memset(&ti, 0, sizeof ti);
  socklen_t len = sizeof ti;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) return s;
  s.valid = true;
  s.busy_us = ti.tcpi_busy_time;
  s.rwnd_limited_us = ti.tcpi_rwnd_limited;
  s.sndbuf_limited_us = ti.tcpi_sndbuf_limited;
  s.bytes_acked = ti.tcpi_bytes_acked;
  s.total_retrans = ti.tcpi_total_retrans;
  s.snd_cwnd = ti.tcpi_snd_cwnd;
  s.rtt_us = ti.tcpi_rtt;
  return s;
}

}  // namespace sl
