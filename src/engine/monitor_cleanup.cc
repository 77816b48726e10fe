#include "engine/monitor_cleanup.h"

#include <unistd.h>

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
