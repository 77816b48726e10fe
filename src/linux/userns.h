// Which user namespace this process is in, and whether it is a rootless guise's. Apart
// from idmap.h (the maps' writer) so that what only asks can link without it.
#pragma once

namespace guise::linux {

// Whether this process is in a user namespace other than the initial one (root there is
// not the host's root: a rootless engine's processes, a container's).
bool in_user_namespace();

// Whether this is a rootless guise's process: one that joined the user's namespaces (and
// its monitors and helpers, which inherit GUISE_ROOTLESS=1 from it). Root of some other
// user namespace, root in an unprivileged LXC container, is not: it keeps root's store,
// bridges and limits, and in_user_namespace() answers only what it may do.
bool in_rootless_session();
void mark_rootless_session();

}  // namespace guise::linux
