// An archive entry's name, cleaned and resolved inside the layer: the unpacker's only
// way to a directory it creates in. Internal to the unpacker (and its tests).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sys/fd.h"
#include "sys/result.h"

namespace guise::image::unpack_paths {

// The components of `name` as if the layer were "/": empty and "." components are
// dropped, ".." removes the one before it and never climbs above the layer, a leading "/"
// changes nothing. Empty: the layer itself.
std::vector<std::string> clean(std::string_view name);
std::string join(std::span<const std::string> components);

// Opens (O_RDONLY | O_DIRECTORY) the directory that `components` name inside `layer`,
// symlinks followed as if the layer were "/" (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS).
// With `create`, missing directories are made (0755) on their resolved parent's fd.
Result<sys::Fd> open_dir(int layer, std::span<const std::string> components, bool create);

// Removes `name` in `dir` without following it: a directory with all it holds.
Result<void> remove_all(int dir, const std::string& name);

// Clears `name` in `dir` for a new entry: an existing directory stays when the entry is
// one too; anything else there is removed (remove_all), never written through.
Result<void> make_room(int dir, const std::string& name, bool for_directory);

// `name` with control bytes written as \xNN, for messages.
std::string printable(std::string_view name);

}  // namespace guise::image::unpack_paths
