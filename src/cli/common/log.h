// Where a face reports: errors and warnings on stderr always (as "PROGRAM: message"),
// and in --log FILE in logrus's text or JSON format as runc writes it (containerd shows
// the last {"level":"error"} line to its user); with --debug, debug lines in that format
// to --log FILE, or to stderr without one, as runc's. configure_log() installs this as the library's
// log sink (sys/log.h), so warnings raised anywhere below, the container's init
// included, arrive here.
#pragma once

#include <string>

namespace guise::cli {

// `program`: the prefix on stderr ("guise-oci"). `path` "" logs to stderr only. The
// file is created at once, even when nothing is logged, as runc does.
void configure_log(const std::string& program, const std::string& path, const std::string& format, bool debug);
void log_error(const std::string& message);
void log_warning(const std::string& message);
void log_debug(const std::string& message);

}  // namespace guise::cli
