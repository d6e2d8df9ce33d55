// Blocking TCP helpers: listen (127.0.0.1, or one given host address, never the wildcard), connect, send_all,
// recv_some, recv_exact.
#pragma once
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace sl {

enum class IoStatus { ok, closed, timeout, error };

// Result of one recv() as seen by the caller, after SO_RCVTIMEO wake-ups were absorbed.
struct RecvOnce {
  ssize_t ret = 0;           // recv() return value that ended the wait (-1 on error/stop)
  IoStatus status = IoStatus::ok;
  int64_t waited_us = 0;     // wall time from first call to return, summed across wake-ups (0 if untimed)
  int err = 0;               // errno when status == error
};

// Result of reading an exact byte count.
struct RecvResult {
  size_t bytes = 0;          // bytes read before the status was decided
  IoStatus status = IoStatus::ok;
  int64_t waited_us = 0;     // total wall time spent waiting
  int err = 0;
};

int64_t now_us();  // monotonic clock in microseconds
void sleep_us(int64_t us);
// Names the calling thread (its /proc comm, at most 15 characters): the run's CPU sampler tells the publisher's
// producer, sender and ACK threads apart by it.
void name_this_thread(const char* name);

// Listens on 127.0.0.1:port (0 = ephemeral). Returns fd or -1 (errno set); *bound gets the port.
int listen_local(uint16_t port, uint16_t* bound);
// Listens on addr:port where addr is one IPv4 address of this host; the wildcard 0.0.0.0 is refused (EINVAL)
// so a broker is never reachable from outside the address it was placed on.
int listen_on(const std::string& addr, uint16_t port, uint16_t* bound);
// Connects to host:port with a timeout in ms. Returns fd or -1 (errno set).
int connect_to(const std::string& host, uint16_t port, int timeout_ms);
// Sets SO_RCVTIMEO / SO_SNDTIMEO in seconds and TCP_NODELAY.
void set_socket_timeouts(int fd, int rcv_sec, int snd_sec);

// One recv() of up to n bytes that retries across SO_RCVTIMEO wake-ups until data, close, error or stop.
// When `timed` is false the clock is never read.
RecvOnce recv_some(int fd, void* buf, size_t n, const std::atomic<bool>& stop, bool timed);
// Reads exactly n bytes (loops over partial reads); `timed` as for recv_some.
RecvResult recv_exact(int fd, void* buf, size_t n, const std::atomic<bool>& stop, bool timed = true);
// Sends all n bytes; adds wall time inside send() to *blocked_us and SO_SNDTIMEO expiries to *eagain.
// Gives up (errno = ETIMEDOUT) after max_stall_expiries consecutive SO_SNDTIMEO expiries without progress.
bool send_all(int fd, const void* buf, size_t n, int64_t* blocked_us, uint64_t* eagain,
              const std::atomic<bool>* stop, int max_stall_expiries = 30);

// Writes "ready\n" to path (via a temp file and rename), then "address A\nport P\n" when addr is given: a
// runner on another node reads where the broker listens from it. Returns false on error (errno set).
bool write_ready_file(const std::string& path, const std::string& addr = "", uint16_t port = 0);

}  // namespace sl
