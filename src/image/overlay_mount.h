// An overlay mount of many layers. Where the kernel has `lowerdir+` (6.8+) each lower
// goes to fsconfig on its own and the mount is moved onto the target; elsewhere one
// mount(2) takes `lowerdir=A:B:…` in one page of options, so the lowers are named
// relative to a common base directory: the mount runs on a thread that unshared its
// filesystem context (CLONE_FS) and chdir'ed there, so the process's cwd never moves.
#pragma once

#include <string>
#include <vector>

#include "sys/result.h"

namespace guise::image {

struct OverlayLayers {
  std::string base;                 // absolute: the directory the relative paths start from
  std::vector<std::string> lowers;  // top first, relative to base (or absolute)
  std::string upper, work;          // relative to base (or absolute)
  // overlayfs's `volatile` (5.10+): no sync of the upper layer, at unmount or ever. For an
  // upper that dies with the mount (a --rm container's): its unmount then costs no
  // writeback, which under I/O load took longer than the whole rest of a run. Such an
  // upper cannot be mounted again (the kernel marks its workdir), so only for those.
  // A kernel without the option mounts without it.
  bool volatile_upper = false;
};

enum class OverlayApi {
  kAuto,           // lowerdir+ when the kernel has it, unless GUISE_OVERLAY_NO_LOWERDIR_PLUS=1
  kLegacyOptions,  // mount(2) with one lowerdir= option
};

// Whether fsconfig accepts "lowerdir+" (probed once, on a throwaway overlay context).
bool kernel_has_lowerdir_plus();

Result<void> mount_overlay(const OverlayLayers& layers, const std::string& target,
                           OverlayApi api = OverlayApi::kAuto);

}  // namespace guise::image
