// Messages between the runtime, the view's watcher and its server: one datagram each on
// a SOCK_SEQPACKET socket, text with fds by SCM_RIGHTS alongside.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sys/fd.h"
#include "sys/result.h"

namespace guise::procview {

struct Message {
  std::string text;
  std::vector<sys::Fd> fds;
};

Result<void> send_message(int sock, std::string_view text, const std::vector<int>& fds = {});
// An empty text and no fds: the peer closed its end.
Result<Message> recv_message(int sock);

}  // namespace guise::procview
