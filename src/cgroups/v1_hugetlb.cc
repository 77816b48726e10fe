// v1 hugetlb controller: hugetlb.<size>.limit_in_bytes, and the reservation limit
// where the kernel has it (5.7+), as runc sets both. The page sizes are the CPU's and
// the kernel's (2MB and 1GB on x86-64, others elsewhere): one the host lacks is refused.
#include "cgroups/fs.h"
#include "cgroups/v1.h"
#include "cgroups/values.h"

namespace guise::cgroups::v1 {

Result<void> apply_hugetlb(const Dirs& dirs, const oci::Resources& r) {
  if (r.hugepage_limits.empty()) return Ok();
  constexpr const char* kField = "linux.resources.hugepageLimits";
  std::string dir = GUISE_TRY(dirs.need("hugetlb", kField));
  for (const auto& h : r.hugepage_limits) {
    GUISE_TRY(check_page_size(h.page_size), kField);
    std::string value = std::to_string(h.limit);
    std::string limit = "hugetlb." + h.page_size + ".limit_in_bytes";
    if (!fs::exists(dir, limit))
      return sys::user_error(std::string(kField) + ": this host has no " + h.page_size + " huge pages (no " + dir +
                             "/" + limit + ")");
    GUISE_TRY(fs::write(dir, limit, value, kField));
    std::string rsvd = "hugetlb." + h.page_size + ".rsvd.limit_in_bytes";
    if (fs::exists(dir, rsvd)) GUISE_TRY(fs::write(dir, rsvd, value, kField));
  }
  return Ok();
}

}  // namespace guise::cgroups::v1
