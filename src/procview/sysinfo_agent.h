// The seccomp agent for sysinfo(2): the container's filter sends sysinfo here
// (SCMP_ACT_NOTIFY); the answer is the view's numbers written into the caller's
// struct. Any other notification continues in the kernel as if no filter had seen it.
#pragma once

#include <sys/sysinfo.h>

#include <functional>

#include "sys/result.h"

namespace guise::procview {

// nullptr: no view to give (the server is gone), every call continues to the kernel.
using SysinfoSource = std::function<struct sysinfo()>;

// Receives and answers one notification from the listener fd.
Result<void> answer_notification(int notify_fd, const SysinfoSource& source);

}  // namespace guise::procview
