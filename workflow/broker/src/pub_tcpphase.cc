// refpub: per-phase TCP_INFO differences ([TcpPhase] lines); see pub_tcpphase.h.
#include "pub_tcpphase.h"

#include "log.h"
#include "net.h"
#include "pub.h"

namespace sl {
namespace {

const char* const kPhaseNames[] = {"publish", "drain"};

// Difference of two cumulative samples (clamped at 0: the counters never go back, but a failed read is zero).
uint64_t diff(uint64_t later, uint64_t earlier) { return later > earlier ? later - earlier : 0; }

void log_phase(const PubConn& c, const char* name, const TcpMark& a, const TcpMark& b) {
  if (!a.s.valid || !b.s.valid || b.t_us <= a.t_us) return;  // no such phase for this connection
  LOGI("[TcpPhase] phase=%s broker=%d conn=%d wall_us=%lld busy_us=%llu rwnd_limited_us=%llu "
       "sndbuf_limited_us=%llu retrans=%u bytes_acked=%llu", name, c.broker, c.k, (long long)(b.t_us - a.t_us),
       (unsigned long long)diff(b.s.busy_us, a.s.busy_us),
       (unsigned long long)diff(b.s.rwnd_limited_us, a.s.rwnd_limited_us),
       (unsigned long long)diff(b.s.sndbuf_limited_us, a.s.sndbuf_limited_us),
       b.s.total_retrans > a.s.total_retrans ? b.s.total_retrans - a.s.total_retrans : 0u,
       (unsigned long long)diff(b.s.bytes_acked, a.s.bytes_acked));
}

}  // namespace

void mark_tcp_phase(PubRun& run) {
  const int64_t t = now_us();
  for (auto& cp : run.conns) {
    PubConn& c = *cp;
    TcpMark m;
    m.t_us = t;
    if (c.fd >= 0) {
      m.s = sample_tcp_info(c.fd);
    } else if (c.marks.closed_us > 0) {  // closed early (a fault): the phase ended at its close
      m.t_us = c.marks.closed_us;
      m.s = c.tcp;
    }
    c.marks.marks.push_back(m);
  }
}

void log_tcp_phases(const PubRun& run) {
  for (const auto& cp : run.conns) {
    const PubConn& c = *cp;
    std::vector<TcpMark> ms = c.marks.marks;
    if (c.marks.closed_us > 0) {
      TcpMark end;
      end.t_us = c.marks.closed_us;
      end.s = c.tcp;
      ms.push_back(end);
    }
    for (size_t i = 0; i + 1 < ms.size() && i < sizeof kPhaseNames / sizeof kPhaseNames[0]; ++i)
      log_phase(c, kPhaseNames[i], ms[i], ms[i + 1]);
  }
}

}  // namespace sl
