// A temporary directory for storage tests, removed at the end of the test.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace civic::storage {

class TestDir {
 public:
  TestDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "civic-test-XXXXXX").string();
    path_ = mkdtemp(templ.data());
  }
  ~TestDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace civic::storage
