// oci types -> JSON with the runtime-spec's field names: the inverse of oci/parse.h,
// so parse_spec(spec_json(s)) gives s back, field for field.
//
// Keys keep the order of the runtime-spec's Go types (specs-go/config.go), the order
// runc, containerd and `guise-oci spec` write. A field is left out where Go's
// `omitempty` leaves it out, which is also where the parser reads absence as the
// default: an unset optional, an empty string, list or map, a false bool. An optional
// set to 0 or false is written, since the parser tells it from an absent one.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "oci/spec.h"

namespace guise::oci {

nlohmann::ordered_json to_json(const Spec& s);
nlohmann::ordered_json to_json(const Process& p);
nlohmann::ordered_json to_json(const Linux& l);
nlohmann::ordered_json to_json(const Resources& r);

// Compact JSON text. A string that is not valid UTF-8 (from a flag or an
// environment, never from parsed JSON) is written with U+FFFD in place of the bad
// bytes, as Go's encoding/json writes it, where nlohmann's dump() would throw.
std::string spec_json(const Spec& s);
std::string process_json(const Process& p);
std::string resources_json(const Resources& r);

}  // namespace guise::oci
