#include "engine/host_devices.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <set>

namespace guise::engine {

namespace {

std::optional<oci::Device> device_of(const std::string& path, const struct stat& st) {
  oci::Device d;
  if (S_ISCHR(st.st_mode)) d.type = "c";
  else if (S_ISBLK(st.st_mode)) d.type = "b";
  else return std::nullopt;
  d.path = path;
  d.major = major(st.st_rdev);
  d.minor = minor(st.st_rdev);
  d.file_mode = st.st_mode & 07777;
  d.uid = st.st_uid;
  d.gid = st.st_gid;
  return d;
}

void walk(const std::string& dir, std::vector<oci::Device>& out) {
  static const std::set<std::string> kSkipped = {"pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"};
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string path = dir + "/" + name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (!kSkipped.count(name)) walk(path, out);
      continue;
    }
    if (path == "/dev/console") continue;
    if (auto dev = device_of(path, st)) out.push_back(std::move(*dev));
  }
  ::closedir(d);
}

}  // namespace

Result<oci::Device> host_device(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    // docker's words, Go's lower-case errno text: ... "/dev/nope": no such file or directory
    std::string why = std::strerror(errno);
    if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
    return sys::user_error("error gathering device information while adding custom device \"" + path + "\": " + why);
  }
  auto dev = device_of(path, st);
  if (!dev)
    return sys::user_error("error gathering device information while adding custom device \"" + path +
                           "\": not a device node");
  return *dev;
}

std::vector<oci::Device> host_devices(const std::string& dev) {
  std::vector<oci::Device> out;
  walk(dev, out);
  return out;
}

}  // namespace guise::engine
