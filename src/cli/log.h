// Where guise-oci reports: stderr always, and --log FILE in runc's text or json
// format (containerd shows the last {"level":"error"} line to its user).
#pragma once

#include <string>

namespace guise::cli {

void configure_log(const std::string& path, const std::string& format, bool debug);
void log_error(const std::string& message);
void log_warning(const std::string& message);
void log_debug(const std::string& message);

}  // namespace guise::cli
