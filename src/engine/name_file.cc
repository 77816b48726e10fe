#include "engine/name_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "sys/syscalls.h"

namespace guise::engine {

Result<bool> take_name_file(const std::string& names_dir, const std::string& name, const std::string& id,
                            const std::function<bool(const std::string&)>& owner_gone, const std::string& what) {
  std::string path = names_dir + "/" + name, tmp = names_dir + "/." + id + ".tmp";
  GUISE_TRY(sys::write_file(tmp, id, O_CREAT | O_TRUNC, 0600), "reserve " + what + " name");
  auto take = [&] { return ::link(tmp.c_str(), path.c_str()) == 0; };
  bool taken = take();
  int err = errno;
  if (!taken && err == EEXIST) {
    auto owner = sys::read_file(path);
    if (owner && !owner->empty() && owner_gone(*owner)) {
      release_name_file(names_dir, name, *owner);
      taken = take();
      err = errno;
    }
  }
  ::unlink(tmp.c_str());
  if (!taken && err != EEXIST) return sys::sys_error_n(err, "reserve " + what + " name", path);
  return taken;
}

void release_name_file(const std::string& names_dir, const std::string& name, const std::string& id) {
  std::string path = names_dir + "/" + name;
  auto owner = sys::read_file(path);
  if (owner && *owner == id) ::unlink(path.c_str());
}

Result<std::vector<std::string>> ids_with_records(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return sys::sys_error("opendir", dir);
  while (auto* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.size() == 64 && ::access((dir + "/" + n + "/record.json").c_str(), F_OK) == 0) out.push_back(n);
  }
  ::closedir(d);
  return out;
}

Result<std::string> id_by_prefix(const std::vector<std::string>& ids, const std::string& prefix,
                                 const std::string& ambiguous) {
  std::string found;
  for (const auto& id : ids)
    if (id.rfind(prefix, 0) == 0) {
      if (!found.empty()) return sys::user_error(ambiguous);
      found = id;
    }
  return found;
}

}  // namespace guise::engine
