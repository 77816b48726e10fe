#include "linux/lsm_labels.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "sys/syscalls.h"

namespace guise::linux {

namespace {
constexpr long kSelinuxMagic = 0xf97cff8c;
}  // namespace

bool apparmor_enabled() {
  // As runc and the AppArmor tools decide it: the module is loaded and says Y.
  struct stat st {};
  if (::stat("/sys/kernel/security/apparmor", &st) < 0 && ::stat("/sys/module/apparmor", &st) < 0) return false;
  auto v = sys::read_file("/sys/module/apparmor/parameters/enabled");
  return v.ok() && !v.value().empty() && v.value()[0] == 'Y';
}

bool selinux_enabled() {
  struct statfs fs {};
  return ::statfs("/sys/fs/selinux", &fs) == 0 && static_cast<long>(fs.f_type) == kSelinuxMagic;
}

Result<void> check_lsm(const oci::Process& process, const std::string& mount_label) {
  const bool apparmor = !process.apparmor_profile.empty(), selinux = !process.selinux_label.empty();
  if (apparmor && !apparmor_enabled())
    return sys::user_error("process.apparmorProfile \"" + process.apparmor_profile +
                           "\": AppArmor is not enabled on this host; refusing to run the process unconfined");
  if (selinux && !selinux_enabled())
    return sys::user_error("process.selinuxLabel \"" + process.selinux_label +
                           "\": SELinux is not enabled on this host; refusing to run the process unlabelled");
  if (!mount_label.empty() && !selinux_enabled())
    return sys::user_error("linux.mountLabel \"" + mount_label + "\": SELinux is not enabled on this host");
  if (apparmor && selinux)
    return sys::user_error("process: apparmorProfile and selinuxLabel both set; a host runs one major LSM");
  return Ok();
}

Result<ExecLabel> ExecLabel::prepare(const oci::Process& process, const ProcFs& proc) {
  ExecLabel label;
  const bool apparmor = !process.apparmor_profile.empty(), selinux = !process.selinux_label.empty();
  if (!apparmor && !selinux) return label;
  std::string base = proc.thread_self() + "/attr/";
  if (apparmor) {
    // The AppArmor-specific file where the kernel has it (5.8+, shared with other
    // LSMs), else the common one; "exec PROFILE" is the change_onexec request.
    auto fd = proc.open(base + "apparmor/exec", O_WRONLY);
    if (!fd.ok()) fd = proc.open(base + "exec", O_WRONLY);
    label.attr_ = GUISE_TRY(std::move(fd), "process.apparmorProfile");
    label.value_ = "exec " + process.apparmor_profile;
    label.what_ = "process.apparmorProfile";
  } else {
    label.attr_ = GUISE_TRY(proc.open(base + "exec", O_WRONLY), "process.selinuxLabel");
    label.value_ = process.selinux_label;
    label.what_ = "process.selinuxLabel";
  }
  return label;
}

Result<void> ExecLabel::apply() const {
  if (!attr_.valid()) return Ok();
  GUISE_TRY(sys::write_all(attr_.get(), value_, "/proc/thread-self/attr/exec"), what_);
  return Ok();
}

}  // namespace guise::linux
