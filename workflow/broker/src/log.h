// glog-style line writer: <S><YYYYMMDD> <HH:MM:SS.uuuuuu> <tid> <file>:<line>] <msg>
#pragma once

namespace sl {

// Writes one record to stderr with a single write(2) under the logging mutex. `file` may be a full path.
void log_printf(char sev, const char* file, int line, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));

}  // namespace sl

#define LOGI(...) ::sl::log_printf('I', __FILE__, __LINE__, __VA_ARGS__)
#define LOGW(...) ::sl::log_printf('W', __FILE__, __LINE__, __VA_ARGS__)
#define LOGE(...) ::sl::log_printf('E', __FILE__, __LINE__, __VA_ARGS__)
