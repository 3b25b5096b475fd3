#include "proc_info.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace evr::bench {

std::optional<std::chrono::nanoseconds> cpuTime(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return std::nullopt;
  // Field 2 (comm) is in parentheses and may contain spaces: count fields after the last ')'.
  const auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  std::uint64_t utime = 0, stime = 0;
  // After comm: state is field 3; utime and stime are fields 14 and 15.
  for (int number = 3; number <= 15 && fields >> field; ++number) {
    if (number == 14) utime = std::stoull(field);
    if (number == 15) stime = std::stoull(field);
  }
  if (!fields) return std::nullopt;
  const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  return std::chrono::nanoseconds((utime + stime) * (1'000'000'000 / ticks_per_second));
}

std::optional<std::uint64_t> peakRssBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // "VmHWM:  1234 kB"
  }
  return std::nullopt;
}

std::optional<double> loadAverage() {
  std::ifstream in("/proc/loadavg");
  double one_minute = 0;
  if (in >> one_minute) return one_minute;
  return std::nullopt;
}

std::string sourceCommit() {
#ifdef EVR_BENCH_SOURCE_DIR
  const auto run = [](const std::string& command) {
    std::string out;
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
      char buffer[256];
      while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) out += buffer;
      if (::pclose(pipe) != 0) return std::string();
    }
    return out;
  };
  const std::string git = "git -C '" + std::string(EVR_BENCH_SOURCE_DIR) + "' ";
  std::string commit = run(git + "rev-parse HEAD 2>/dev/null");
  while (!commit.empty() && (commit.back() == '\n' || commit.back() == ' ')) commit.pop_back();
  if (commit.empty()) return "unknown";
  if (!run(git + "status --porcelain --untracked-files=no 2>/dev/null").empty()) commit += "+dirty";
  return commit;
#else
  return "unknown";
#endif
}

nlohmann::json machineInfo() {
  std::string cpu_model = "unknown";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      cpu_model = line.substr(line.find(':') + 2);
      break;
    }
  }
  utsname names{};
  ::uname(&names);
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return {{"nproc", std::thread::hardware_concurrency()},
          {"cpu_model", cpu_model},
          {"kernel", std::string(names.sysname) + " " + names.release + " " + names.machine},
          {"date", date}};
}

}  // namespace evr::bench
