// ExitFacts as JSON: state.json's "exit_facts" object, and `why --format json`'s "facts".
#pragma once

#include <nlohmann/json.hpp>

#include "engine/container.h"

namespace guise::engine {

nlohmann::ordered_json exit_facts_json(const ExitFacts& f);
// Tolerant: a field missing or of the wrong type keeps its default.
ExitFacts parse_exit_facts(const nlohmann::json& j);

}  // namespace guise::engine
