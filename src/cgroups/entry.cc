#include "cgroups/entry.h"

#include <fcntl.h>
#include <unistd.h>

namespace guise::cgroups {

Result<void> add_tasks_file(TaskFiles& files, const std::string& dir) {
  std::string path = dir + "/tasks";
  sys::Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return sys::sys_error("open", path);
  files.fds.push_back(std::move(fd));
  files.paths.push_back(std::move(path));
  return Ok();
}

Result<void> enter_self(TaskFiles& files) {
  for (size_t i = 0; i < files.fds.size(); ++i) {
    // "0": the writer itself, this one thread (the process has no other).
    if (::write(files.fds[i].get(), "0", 1) != 1) {
      std::string path = i < files.paths.size() ? files.paths[i] : "a tasks file";
      return sys::sys_error("joining cgroup: write 0 to", path);
    }
    files.fds[i].reset();
  }
  return Ok();
}

}  // namespace guise::cgroups
