#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "cli/oci/ps_table.h"
#include "sys/child_process.h"
#include "sys/fd.h"

namespace guise::cli {

Result<std::string> ps_table(const std::vector<pid_t>& pids, const std::vector<std::string>& ps_args) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return sys::sys_error("pipe");
  sys::Fd rd(fds[0]), wr(fds[1]);
  std::vector<std::string> args = {"ps"};
  args.insert(args.end(), ps_args.begin(), ps_args.end());
  sys::SpawnOptions so;
  so.stdout_fd = wr.get();
  so.search_path = true;
  sys::ChildProcess child = GUISE_TRY(sys::spawn("ps", args, so));
  wr.reset();
  std::string out;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(rd.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  int status = GUISE_TRY(child.wait());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return sys::user_error("ps " + (ps_args.empty() ? std::string() : ps_args[0]) + " failed (exit " +
                           std::to_string(WEXITSTATUS(status)) + ")");
  std::istringstream lines(out);
  std::string header, line, result;
  std::getline(lines, header);
  std::istringstream h(header);
  std::string col;
  int pid_col = -1;
  for (int i = 0; h >> col; ++i)
    if (col == "PID") pid_col = i;
  if (pid_col < 0) return sys::user_error("ps output has no PID column: " + header);
  result = header + "\n";
  while (std::getline(lines, line)) {
    std::istringstream f(line);
    std::string field;
    for (int i = 0; i <= pid_col && f >> field; ++i) {
    }
    pid_t p = static_cast<pid_t>(std::atoi(field.c_str()));
    if (std::find(pids.begin(), pids.end(), p) != pids.end()) result += line + "\n";
  }
  return result;
}

}  // namespace guise::cli
