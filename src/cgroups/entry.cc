#include "cgroups/entry.h"

#include <fcntl.h>
#include <unistd.h>

namespace guise::cgroups {

Result<void> add_tasks_file(Entry& entry, const std::string& dir) {
  std::string path = dir + "/tasks";
  sys::Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return sys::sys_error("open", path);
  entry.tasks.push_back(std::move(fd));
  entry.paths.push_back(std::move(path));
  return Ok();
}

Result<void> enter_self(Entry& entry) {
  for (size_t i = 0; i < entry.tasks.size(); ++i) {
    // "0": the writer itself, this one thread (the process has no other).
    if (::write(entry.tasks[i].get(), "0", 1) != 1)
      return sys::sys_error("joining cgroup: write 0 to", entry.paths[i]);
    entry.tasks[i].reset();
  }
  return Ok();
}

}  // namespace guise::cgroups
