// A temporary directory for one test (runtime dir, ipc sockets, config files); removed with
// everything in it when the object goes away.
#pragma once

#include <filesystem>
#include <string>

namespace evr::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `text` to path()/name and returns the full path.
  std::string write(const std::string& name, const std::string& text) const;
  // ipc://<dir>/<name>
  std::string ipc(const std::string& name = "evrouterd.sock") const;

 private:
  std::filesystem::path path_;
};

// The whole content of a file ("" when it cannot be read).
std::string readFile(const std::string& path);

}  // namespace evr::test
