// bench_args.h: the one option parser of the native benchmark executables (bench/native/*.cpp). Each executable
// measures ONE configuration given on its command line and prints one JSON object (bench_json.h); the drivers
// (bench/decode.mjs, bench/jpeg.mjs, bench/native.mjs) repeat, alternate and compare. Options are `--name value`,
// `--name=value` or a bare `--flag`; anything else, an unknown option or a bad value prints
// "<bench>: <message> (see --help)" on stderr and exits with 2. Not thread-safe; used once at the start of main().
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace camtrack::bench {

constexpr int kExitBadOption = 2;

class Args {
 public:
  // `help` is printed for --help / -h (exit 0).
  Args(int argc, char** argv, std::string name, std::string help) : name_(std::move(name)), help_(std::move(help)) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "--help" || a == "-h") {
        std::fputs(help_.c_str(), stdout);
        std::exit(0);
      }
      if (a.rfind("--", 0) != 0 || a.size() < 3) Fail("unexpected argument '" + a + "'");
      const auto eq = a.find('=');
      if (eq != std::string::npos) {
        values_[a.substr(2, eq - 2)] = a.substr(eq + 1);
      } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
        values_[a.substr(2)] = argv[++i];
      } else {
        values_[a.substr(2)] = "";  // a flag
      }
    }
  }

  [[noreturn]] void Fail(const std::string& msg) const {
    std::fprintf(stderr, "%s: %s (see --help)\n", name_.c_str(), msg.c_str());
    std::exit(kExitBadOption);
  }

  bool Has(const std::string& key) {
    used_.insert(key);
    return values_.count(key) > 0;
  }
  // A bare --flag (a value is refused).
  bool Flag(const std::string& key) {
    if (!Has(key)) return false;
    if (!values_[key].empty()) Fail("--" + key + " takes no value");
    return true;
  }
  std::string Str(const std::string& key, const std::string& def) {
    if (!Has(key)) return def;
    if (values_[key].empty()) Fail("missing value for --" + key);
    return values_[key];
  }
  // An integer in [lo, hi].
  long long Int(const std::string& key, long long def, long long lo, long long hi) {
    if (!Has(key)) return def;
    const std::string& v = values_[key];
    char* end = nullptr;
    const long long n = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < lo || n > hi)
      Fail("expected an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + " for --" + key +
           " but received '" + v + "'");
    return n;
  }
  double Num(const std::string& key, double def, double lo, double hi) {
    if (!Has(key)) return def;
    const std::string& v = values_[key];
    char* end = nullptr;
    const double n = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !(n >= lo && n <= hi))
      Fail("expected a number in " + std::to_string(lo) + ".." + std::to_string(hi) + " for --" + key +
           " but received '" + v + "'");
    return n;
  }
  // One of `choices`.
  std::string Choice(const std::string& key, const std::string& def, const std::vector<std::string>& choices) {
    const std::string v = Str(key, def);
    for (const auto& c : choices)
      if (c == v) return v;
    std::string all;
    for (const auto& c : choices) all += (all.empty() ? "" : ", ") + c;
    Fail("unknown value '" + v + "' for --" + key + " (" + all + ")");
  }
  // Call after reading every option: refuses the options nobody asked for.
  void Done() const {
    for (const auto& [k, v] : values_)
      if (!used_.count(k)) Fail("unknown option --" + k);
  }

 private:
  std::string name_, help_;
  std::map<std::string, std::string> values_;
  std::set<std::string> used_;
};

}  // namespace camtrack::bench
