// Process exit codes shared by refbroker, refpub and rawsink, with one text table.
#pragma once

namespace sl {

enum class ExitCode : int {
  kOk = 0,
  kUsage = 1,          // bad or missing command-line flag
  kAckTimeout = 2,     // publisher: ACK wait timed out
  kListen = 3,         // could not bind/listen on 127.0.0.1
  kConnect = 4,        // publisher: could not reach a broker or open the ACK channel
  kRingTooLarge = 5,   // broker: slots * slot_bytes exceeds --ring-max-mb
  kResource = 6,       // memory map / thread creation / ready file
  kSend = 7,           // publisher: a data connection broke while sending
};

// Returns a short description of `code`.
const char* exit_code_text(ExitCode code);

// Returns the numeric value to hand to exit().
inline int exit_value(ExitCode code) { return static_cast<int>(code); }

}  // namespace sl
