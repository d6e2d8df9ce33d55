#include "exit_codes.h"

namespace sl {

const char* exit_code_text(ExitCode code) {
  switch (code) {
    case ExitCode::kOk: return "ok";
    case ExitCode::kUsage: return "usage error";
    case ExitCode::kAckTimeout: return "ACK wait timed out";
    case ExitCode::kListen: return "cannot listen on 127.0.0.1";
    case ExitCode::kConnect: return "cannot reach a peer";
    case ExitCode::kRingTooLarge: return "ring exceeds --ring-max-mb";
    case ExitCode::kResource: return "resource allocation problem";
    case ExitCode::kSend: return "data connection broke while sending";
  }
  return "unknown exit code";
}

}  // namespace sl
