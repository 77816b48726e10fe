// How containers and pods are found, by name or by id. A name is a file NAMES_DIR/NAME
// holding its owner's id, made by link(2) of a file written first: it is never seen
// empty, and link fails when the name exists, so a kill at any point leaves a name that
// names its owner, or none. An id is a directory DIR/ID (64 hex) with a record.json.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "sys/result.h"

namespace guise::engine {

// Takes `name` for `id`. A name whose owner is gone (`owner_gone(owner_id)`: a removal
// killed between the owner and its name) is taken over. false: it is another's. Other
// failures are errors naming "reserve WHAT name".
Result<bool> take_name_file(const std::string& names_dir, const std::string& name, const std::string& id,
                            const std::function<bool(const std::string&)>& owner_gone, const std::string& what);

// Removes NAMES_DIR/NAME when it still names `id`.
void release_name_file(const std::string& names_dir, const std::string& name, const std::string& id);

// The ids in `dir` that have a record.json.
Result<std::vector<std::string>> ids_with_records(const std::string& dir);

// The one of `ids` that starts with `prefix`; "" when none does; a user error saying
// `ambiguous` when more than one does.
Result<std::string> id_by_prefix(const std::vector<std::string>& ids, const std::string& prefix,
                                 const std::string& ambiguous);

}  // namespace guise::engine
