#include "net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace sl {

int64_t now_us() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

void sleep_us(int64_t us) {
  if (us <= 0) return;
  struct timespec ts{static_cast<time_t>(us / 1000000), static_cast<long>((us % 1000000) * 1000)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

int listen_local(uint16_t port, uint16_t* bound) { return listen_on("127.0.0.1", port, bound); }

int listen_on(const std::string& addr, uint16_t port, uint16_t* bound) {
  struct sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (::inet_pton(AF_INET, addr.c_str(), &a.sin_addr) != 1 || a.sin_addr.s_addr == htonl(INADDR_ANY)) {
    errno = EINVAL;
    return -1;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 128) != 0) {
    int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  if (bound) *bound = ntohs(a.sin_port);
  return fd;
}

int connect_to(const std::string& host, uint16_t port, int timeout_ms) {
  struct addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  char ps[16];
  std::snprintf(ps, sizeof ps, "%u", port);
  if (getaddrinfo(host.c_str(), ps, &hints, &res) != 0 || !res) {
    errno = EHOSTUNREACH;
    return -1;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int rc = fd < 0 ? -1 : ::connect(fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (fd < 0) return -1;
  if (rc != 0 && errno == EINPROGRESS) {
    struct pollfd p{fd, POLLOUT, 0};
    int pr = ::poll(&p, 1, timeout_ms);
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (pr <= 0) {
      soerr = pr == 0 ? ETIMEDOUT : errno;
    } else {
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    }
    rc = soerr == 0 ? 0 : -1;
    errno = soerr;
  }
  if (rc != 0) {
    int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

void name_this_thread(const char* name) { pthread_setname_np(pthread_self(), name); }

void set_socket_timeouts(int fd, int rcv_sec, int snd_sec) {
  struct timeval r{rcv_sec, 0}, s{snd_sec, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &r, sizeof r);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &s, sizeof s);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RecvOnce recv_some(int fd, void* buf, size_t n, const std::atomic<bool>& stop, bool timed) {
  RecvOnce r;
  const int64_t t0 = timed ? now_us() : 0;
  for (;;) {
    ssize_t got = ::recv(fd, buf, n, 0);
    if (got > 0 || got == 0) {
      r.ret = got;
      r.status = got > 0 ? IoStatus::ok : IoStatus::closed;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (stop.load(std::memory_order_relaxed)) {
        r.ret = -1;
        r.status = IoStatus::timeout;
        break;
      }
      continue;  // SO_RCVTIMEO wake-up: recheck the stop flag and keep waiting
    }
    r.ret = -1;
    r.status = IoStatus::error;
    r.err = errno;
    break;
  }
  if (timed) r.waited_us = now_us() - t0;
  return r;
}

RecvResult recv_exact(int fd, void* buf, size_t n, const std::atomic<bool>& stop, bool timed) {
  RecvResult res;
  char* p = static_cast<char*>(buf);
  while (res.bytes < n) {
    RecvOnce r = recv_some(fd, p + res.bytes, n - res.bytes, stop, timed);
    res.waited_us += r.waited_us;
    if (r.status != IoStatus::ok) {
      res.status = r.status;
      res.err = r.err;
      return res;
    }
    res.bytes += static_cast<size_t>(r.ret);
  }
  return res;
}

bool send_all(int fd, const void* buf, size_t n, int64_t* blocked_us, uint64_t* eagain,
              const std::atomic<bool>* stop, int max_stall_expiries) {
  const char* p = static_cast<const char*>(buf);
  size_t off = 0;
  int streak = 0;
  while (off < n) {
    const int64_t t0 = now_us();
    ssize_t w = ::send(fd, p + off, n - off, MSG_NOSIGNAL);
    if (blocked_us) *blocked_us += now_us() - t0;
    if (w > 0) {
      off += static_cast<size_t>(w);
      streak = 0;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (eagain) ++*eagain;
      if (stop && stop->load()) return false;
      if (++streak >= max_stall_expiries) {
        errno = ETIMEDOUT;
        return false;
      }
      continue;
    }
    return false;
  }
  return true;
}

bool write_ready_file(const std::string& path, const std::string& addr, uint16_t port) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  // First line "ready" (what a plain waiter checks); then where to connect, for a runner on another node.
  std::string body = "ready\n";
  if (!addr.empty()) body += "address " + addr + "\nport " + std::to_string(port) + "\n";
  bool ok = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size());
  ::close(fd);
  return ok && ::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace sl
