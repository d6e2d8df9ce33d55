#include "flags.h"

#include <cerrno>
#include <cstdlib>
#include <sstream>

namespace sl {

void FlagSet::add(const char* names, Kind kind, void* dst, const char* help) {
  Flag f{{}, kind, dst, help};
  std::stringstream ss(names);
  std::string item;
  while (std::getline(ss, item, ',')) f.names.push_back(item);
  flags_.push_back(f);
}

void FlagSet::add_int(const char* names, int64_t* dst, const char* help) { add(names, Kind::kInt, dst, help); }
void FlagSet::add_str(const char* names, std::string* dst, const char* help) { add(names, Kind::kStr, dst, help); }
void FlagSet::add_bool(const char* names, bool* dst, const char* help) { add(names, Kind::kBool, dst, help); }

FlagSet::Flag* FlagSet::find(const std::string& name) {
  for (Flag& f : flags_)
    for (const std::string& n : f.names)
      if (n == name) return &f;
  return nullptr;
}

bool FlagSet::parse(int argc, char** argv, std::string* err) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      *err = usage();
      return false;
    }
    std::string value;
    bool has_value = false;
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    Flag* f = find(arg);
    if (!f) {
      *err = program_ + ": unknown flag " + arg + "\n" + usage();
      return false;
    }
    if (f->kind == Kind::kBool) {
      *static_cast<bool*>(f->dst) = !has_value || value == "1" || value == "true";
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        *err = program_ + ": flag " + arg + " needs a value";
        return false;
      }
      value = argv[++i];
    }
    if (f->kind == Kind::kStr) {
      *static_cast<std::string*>(f->dst) = value;
      continue;
    }
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(value.c_str(), &end, 10);
    if (errno != 0 || end == value.c_str() || *end != '\0') {
      *err = program_ + ": flag " + arg + " expects an integer, got '" + value + "'";
      return false;
    }
    *static_cast<int64_t*>(f->dst) = v;
  }
  return true;
}

std::string FlagSet::usage() const {
  std::string out = "usage: " + program_ + " [flags]\n";
  for (const Flag& f : flags_) {
    std::string names;
    for (const std::string& n : f.names) names += (names.empty() ? "" : ", ") + n;
    out += "  " + names + (f.kind == Kind::kBool ? "" : " <value>") + "\n      " + f.help + "\n";
  }
  return out;
}

bool parse_host_ports(const std::string& list, std::vector<std::pair<std::string, uint16_t>>* out) {
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t colon = item.rfind(':');
    if (colon == std::string::npos || colon == 0) return false;
    char* end = nullptr;
    long port = std::strtol(item.c_str() + colon + 1, &end, 10);
    if (*end != '\0' || port <= 0 || port > 65535) return false;
    out->emplace_back(item.substr(0, colon), static_cast<uint16_t>(port));
  }
  return !out->empty();
}

}  // namespace sl
