// Unix stream sockets that carry an fd: the console socket (pty master) and the
// seccomp listener (notify fd) are both "connect to a path, send bytes plus one fd".
#pragma once

#include <string>
#include <string_view>

#include "sys/fd.h"
#include "sys/result.h"

namespace guise::sys {

// Connects to the AF_UNIX stream socket at `path`; `what` names it in errors
// ("--console-socket", "linux.seccomp.listenerPath").
Result<Fd> connect_unix(const std::string& path, const std::string& what);

// Sends `data` with `fd` attached by SCM_RIGHTS, all of it in one message.
Result<void> send_with_fd(int sock, std::string_view data, int fd, const std::string& what);

}  // namespace guise::sys
