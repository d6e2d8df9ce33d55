// log: glog prefix regex, one line per call, no interleaving across threads.
#include <regex.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "log.h"

int main() {
  char path[] = "/tmp/t_log_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  const int saved = dup(2);
  CHECK(dup2(fd, 2) == 2);
  LOGI("hello %d", 42);
  LOGW("warn line");
  LOGE("error line: %s", "x");
  const int kThreads = 6, kLines = 400;
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([t] {
      for (int i = 0; i < kLines; ++i) LOGI("thread=%d i=%d payload=%s", t, i, std::string(200, 'a' + t).c_str());
    });
  for (auto& t : ts) t.join();
  dup2(saved, 2);
  close(fd);

  regex_t re;
  CHECK(regcomp(&re, "^([IWEF])([0-9]{8}) ([0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}) +([0-9]+) ([^ :]+):([0-9]+)\\] (.*)$",
                REG_EXTENDED) == 0);
  std::ifstream in(path);
  std::string line;
  int count = 0;
  std::map<int, int> next;
  while (std::getline(in, line)) {
    regmatch_t m[8];
    CHECK(regexec(&re, line.c_str(), 8, m, 0) == 0);
    const std::string file = line.substr(m[5].rm_so, m[5].rm_eo - m[5].rm_so);
    CHECK(file == "t_log.cc");
    const std::string msg = line.substr(m[7].rm_so);
    if (count == 0) CHECK(line[0] == 'I' && msg == "hello 42");
    if (count == 1) CHECK(line[0] == 'W' && msg == "warn line");
    if (count == 2) CHECK(line[0] == 'E' && msg == "error line: x");
    if (count >= 3) {
      int t = -1, i = -1;
      char rest[256];
      CHECK(std::sscanf(msg.c_str(), "thread=%d i=%d payload=%255s", &t, &i, rest) == 3);
      CHECK(std::string(rest) == std::string(200, char('a' + t)));
      CHECK(next[t] == i);  // per-thread order kept, nothing lost or merged
      next[t] = i + 1;
    }
    ++count;
  }
  CHECK(count == 3 + kThreads * kLines);
  regfree(&re);
  unlink(path);
  std::puts("t_log ok");
  return 0;
}
