#include "runtime/resources_store.h"

#include <fcntl.h>
#include <unistd.h>

#include "oci/parse.h"
#include "oci/write.h"
#include "sys/syscalls.h"

namespace guise::runtime {

Result<oci::Resources> load_resources(const StateDir& dir) {
  std::string path = dir.path() + "/resources.json";
  auto text = sys::read_file(path);
  if (text.ok()) return oci::parse_resources(*text, path);
  if (text.error().errnum != ENOENT) return std::move(text.error());
  std::string config = GUISE_TRY(sys::read_file(dir.config_path()));
  oci::Spec spec = GUISE_TRY(oci::parse_spec(config, dir.config_path()));
  return spec.linux && spec.linux->resources ? *spec.linux->resources : oci::Resources{};
}

Result<void> save_resources(const StateDir& dir, const oci::Resources& r) {
  std::string tmp = dir.path() + "/.resources.json.tmp";
  GUISE_TRY(sys::write_file(tmp, oci::resources_json(r), O_CREAT | O_TRUNC, 0600));
  std::string path = dir.path() + "/resources.json";
  if (::rename(tmp.c_str(), path.c_str()) < 0) return sys::sys_error("rename to", path);
  return Ok();
}

}  // namespace guise::runtime
