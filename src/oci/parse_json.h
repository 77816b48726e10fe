// Private to src/oci/parse*.cc: config.json text -> a JSON document, refusing what
// would hurt later. Nesting is bounded while parsing, before anything recurses over
// the document (dump, comparison, the readers): a value 75,000 arrays deep would
// overflow the stack. A number out of double's range is named by its JSON path.
#pragma once

#include <string>
#include <string_view>

#include "oci/parse_reader.h"

namespace guise::oci::detail {

inline constexpr size_t kMaxNesting = 512;

// `base` is the path the document sits at ("" for a whole config.json), so that
// errors read as they would for the same value inside one.
Result<Json> parse_document(std::string_view text, const std::string& origin, const std::string& base = "");

}  // namespace guise::oci::detail
