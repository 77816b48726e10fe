#include "engine/monitor_cleanup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "engine/container.h"
#include "image/store.h"
#include "image/store_files.h"
#include "sys/syscalls.h"

namespace guise::engine {

namespace files = image::store_files;

Result<void> remove_container_files(const std::string& store_root, const std::string& id, const runtime::Globals& g) {
  std::optional<Error> first;
  auto keep = [&](Result<void> r) {
    if (!r.ok() && !r.error().is(sys::ErrorKind::kNotFound) && !first) first = std::move(r.error());
  };
  keep(runtime::remove_container(g, id, true));  // normally gone already (remove_created)
  auto store = image::Store::open(store_root);
  if (store.ok()) keep(store->remove_rootfs(id));
  else keep(std::move(store.error()));
  // The name whose file holds this id: names are reserved by O_EXCL on container-names/NAME.
  std::string names = store_root + "/container-names";
  if (auto entries = files::list_dir(names); entries.ok()) {
    for (const auto& name : *entries) {
      auto held = sys::read_file(names + "/" + name);
      if (held.ok() && (*held == id || *held == id + "\n")) ::unlink((names + "/" + name).c_str());
    }
  }
  keep(files::remove_tree(ContainerPaths(store_root, id).dir));
  if (first) return std::move(*first);
  return Ok();
}

}  // namespace guise::engine

namespace guise::engine {

void run_exit_command(const std::vector<std::string>& argv) {
  if (argv.empty()) return;
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // Not waited for: the container's state is saved at once. What the command undoes, the
  // CLI that waits for the exit (stop, run --rm, rm) undoes itself too, under the same lock.
  pid_t pid = ::fork();
  if (pid != 0) return;
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::setsid();
  int null = ::open("/dev/null", O_RDWR);
  if (null >= 0) {
    ::dup2(null, 0), ::dup2(null, 1), ::dup2(null, 2);
    if (null > 2) ::close(null);
  }
  ::execv(args[0], args.data());
  ::_exit(127);
}

}  // namespace guise::engine
