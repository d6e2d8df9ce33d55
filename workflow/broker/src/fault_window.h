// "[FaultWindow] start|stop name=<fault> ..." lines: when an injected fault takes effect and when it ends, so a
// report can shade the window on its time axis (the "[Fault]" lines only say which faults were configured).
#pragma once
#include "log.h"

namespace sl {

// broker / conn < 0: not tied to one (a process-wide fault); the line then omits them.
inline void fault_window(const char* edge, const char* name, long long broker = -1, long long conn = -1) {
  if (broker >= 0 && conn >= 0) LOGI("[FaultWindow] %s name=%s broker=%lld conn=%lld", edge, name, broker, conn);
  else if (broker >= 0) LOGI("[FaultWindow] %s name=%s broker=%lld", edge, name, broker);
  else LOGI("[FaultWindow] %s name=%s", edge, name);
}

}  // namespace sl
