// Minimal command-line parser: "--name value", "--name=value", "-x value", and valueless booleans.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sl {

class FlagSet {
 public:
  explicit FlagSet(std::string program) : program_(std::move(program)) {}
  // Registers an integer flag; `names` is a comma-separated alias list such as "-m,--size".
  void add_int(const char* names, int64_t* dst, const char* help);
  void add_str(const char* names, std::string* dst, const char* help);
  void add_bool(const char* names, bool* dst, const char* help);
  // Parses argv; on error fills *err and returns false. "--help" sets *err to the usage text.
  bool parse(int argc, char** argv, std::string* err);
  std::string usage() const;

 private:
  enum class Kind { kInt, kStr, kBool };
  struct Flag {
    std::vector<std::string> names;
    Kind kind;
    void* dst;
    std::string help;
  };
  void add(const char* names, Kind kind, void* dst, const char* help);
  Flag* find(const std::string& name);
  std::string program_;
  std::vector<Flag> flags_;
};

// Parses "host:port,host:port"; returns false on a malformed entry.
bool parse_host_ports(const std::string& list, std::vector<std::pair<std::string, uint16_t>>* out);

}  // namespace sl
