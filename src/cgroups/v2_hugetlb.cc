// v2 hugetlb controller: hugetlb.<size>.max, and .rsvd.max where the kernel has it.
#include "cgroups/fs.h"
#include "cgroups/v2.h"
#include "cgroups/values.h"

namespace guise::cgroups::v2 {

Result<void> apply_hugetlb(const std::string& dir, const oci::Resources& r) {
  constexpr const char* kField = "linux.resources.hugepageLimits";
  if (r.hugepage_limits.empty()) return Ok();
  // With the controller enabled every page size the host has shows a hugetlb.<size>.max.
  auto names = fs::file_names(dir);
  bool enabled = false;
  if (names.ok())
    for (const auto& name : *names) enabled = enabled || name.rfind("hugetlb.", 0) == 0;
  for (const auto& h : r.hugepage_limits) {
    GUISE_TRY(check_page_size(h.page_size), kField);
    std::string value = std::to_string(h.limit);
    std::string max = "hugetlb." + h.page_size + ".max";
    if (!fs::exists(dir, max) && enabled)
      return sys::user_error(std::string(kField) + ": this host has no " + h.page_size + " huge pages (no " + dir +
                             "/" + max + ")");
    GUISE_TRY(write(dir, max, value, kField));
    std::string rsvd = "hugetlb." + h.page_size + ".rsvd.max";
    if (fs::exists(dir, rsvd)) GUISE_TRY(write(dir, rsvd, value, kField));
  }
  return Ok();
}

}  // namespace guise::cgroups::v2
