// config.json text -> oci::Spec, with every error naming the JSON path and value:
//   config.json: linux.namespaces[2].type: unknown namespace "pidd"
#pragma once

#include <string>
#include <string_view>

#include "oci/spec.h"
#include "sys/result.h"

namespace guise::oci {

// Parses and validates. `origin` prefixes every error ("config.json").
Result<Spec> parse_spec(std::string_view json_text, const std::string& origin = "config.json");

// runc's `spec` default config.json (and its --rootless variant), pretty-printed.
std::string default_spec_json(bool rootless);

// Parses a process.json as `exec --process` takes it (the spec's process object).
Result<Process> parse_process(std::string_view json_text, const std::string& origin);

// A linux.resources object alone (`update -r`, the stored resources); null is empty.
// Errors name `origin` and the field's JSON path.
Result<Resources> parse_resources(std::string_view json_text, const std::string& origin);

}  // namespace guise::oci
