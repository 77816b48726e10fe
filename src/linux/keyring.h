// A session keyring per container (unless --no-new-keyring): the container's
// processes must not see or use the keys of whoever started the runtime.
#pragma once

#include <string>

#include "sys/result.h"

namespace guise::linux {

// Joins (creating it the first time) the keyring "_ses.<container id>", as runc
// names it, and lets its possessor's user search it. ENOSYS (no keyrings) is fine.
Result<void> join_container_keyring(const std::string& container_id);

}  // namespace guise::linux
