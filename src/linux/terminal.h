// The container's terminal: a pty made inside the container's devpts; the master
// end goes to the console socket (SCM_RIGHTS), the peer end becomes stdio.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "oci/spec.h"
#include "sys/fd.h"
#include "sys/result.h"

namespace guise::linux {

struct Pty {
  sys::Fd master;
  sys::Fd peer;
};

// Opens /dev/ptmx as the container sees it; the peer is taken with TIOCGPTPEER,
// never by a path a container could have replaced.
Result<Pty> open_pty(const std::optional<oci::ConsoleSize>& size);

// Gives the pty to the process's user, before it drops privileges, as runc does
// (fixStdioPermissions): the owner becomes `uid`, the group stays what devpts gave it
// (its gid= option: the tty group in runc's default config). Left as it is where an
// id is not mapped in the user namespace or /dev is read-only, as runc leaves it.
Result<void> give_terminal_to(int peer, uid_t uid);

// Without a terminal: fds 0-2 made the process user's, as runc's fixStdioPermissions
// does, so a non-root process can write to the pipes the engine gave it (an image's
// "ln -sf /dev/stdout access.log"). /dev/null and fds it already owns are left alone,
// and where the kernel refuses (an id not mapped, a read-only /dev) nothing changes.
Result<void> give_stdio_to(uid_t uid);

// Makes `peer` the controlling terminal and fds 0-2 of this process (a new session).
Result<void> become_terminal_owner(int peer);

// Connects to the console socket and sends the master with its name, as runc does.
Result<void> send_to_console_socket(const std::string& socket_path, int master);

}  // namespace guise::linux
