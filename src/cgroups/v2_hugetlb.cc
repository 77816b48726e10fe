// v2 hugetlb controller: hugetlb.<size>.max, and .rsvd.max where the kernel has it.
#include "cgroups/fs.h"
#include "cgroups/v2.h"
#include "cgroups/values.h"

namespace guise::cgroups::v2 {

Result<void> apply_hugetlb(const std::string& dir, const oci::Resources& r) {
  constexpr const char* kField = "linux.resources.hugepageLimits";
  for (const auto& h : r.hugepage_limits) {
    GUISE_TRY(check_page_size(h.page_size), kField);
    std::string value = std::to_string(h.limit);
    GUISE_TRY(write(dir, "hugetlb." + h.page_size + ".max", value, kField));
    std::string rsvd = "hugetlb." + h.page_size + ".rsvd.max";
    if (fs::exists(dir, rsvd)) GUISE_TRY(write(dir, rsvd, value, kField));
  }
  return Ok();
}

}  // namespace guise::cgroups::v2
