// Shared by the command files: registration of each group, and small helpers.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cli/guise/context.h"
#include "image/reference.h"

namespace CLI {
class App;
}

namespace guise::cli {

using image::parse_reference;

void register_pull_push(CLI::App& app, CLI::App& image, Context& ctx);
void register_listing(CLI::App& app, CLI::App& image, Context& ctx);
void register_inspect(CLI::App& app, CLI::App& image, Context& ctx);

// docker's short id: 12 hex digits of the config digest.
inline std::string short_id(const image::Digest& d) { return d.hex.substr(0, 12); }

// The familiar name of a stored full reference ("docker.io/library/busybox:latest" → "busybox:latest").
std::string familiar(const std::string& full);

// docker image inspect's object for one image.
Result<nlohmann::json> inspect_json(const image::Store& store, const image::ImageRecord& rec);

}  // namespace guise::cli
