#include "log.h"

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

namespace sl {
namespace {
std::mutex g_log_mu;  // serialises writes so lines never interleave

const char* base_name(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash ? slash + 1 : path;
}
}  // namespace

void log_printf(char sev, const char* file, int line, const char* fmt, ...) {
  std::string out;
  va_list ap;
  va_start(ap, fmt);
  char body[1024];
  va_list ap2;
  va_copy(ap2, ap);
  int m = std::vsnprintf(body, sizeof body, fmt, ap);
  if (m >= 0 && static_cast<size_t>(m) < sizeof body) {
    out.append(body, m);
  } else if (m > 0) {
    std::string big(static_cast<size_t>(m) + 1, '\0');
    std::vsnprintf(&big[0], big.size(), fmt, ap2);
    out.append(big.data(), m);
  }
  va_end(ap2);
  va_end(ap);
  out.push_back('\n');
  std::lock_guard<std::mutex> lock(g_log_mu);  // timestamp taken under the lock: monotonic in file order
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  localtime_r(&ts.tv_sec, &tm);
  char prefix[160];
  int n = std::snprintf(prefix, sizeof prefix, "%c%04d%02d%02d %02d:%02d:%02d.%06ld %5ld %s:%d] ", sev,
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                        ts.tv_nsec / 1000, static_cast<long>(syscall(SYS_gettid)), base_name(file), line);
  out.insert(0, prefix, n > 0 ? static_cast<size_t>(n) : 0);
  const int fd = 2;
  size_t off = 0;
  while (off < out.size()) {
    ssize_t w = ::write(fd, out.data() + off, out.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += static_cast<size_t>(w);
  }
}

}  // namespace sl
