#include "cli/guise/progress_display.h"

#include <unistd.h>

#include <algorithm>

#include "cli/guise/human.h"

namespace guise::cli {

ProgressDisplay::ProgressDisplay(FILE* out, bool quiet)
    : out_(out), quiet_(quiet), tty_(::isatty(::fileno(out)) == 1) {}

std::string ProgressDisplay::line(const image::LayerEvent& e) const {
  std::string s = e.id + ": " + image::status_text(e.status);
  if ((e.status == image::LayerStatus::kDownloading || e.status == image::LayerStatus::kPushing) && e.total > 0) {
    int width = 50, done = static_cast<int>(std::min<int64_t>(width, e.current * width / e.total));
    std::string bar(static_cast<size_t>(done), '=');
    if (done < width) bar += '>';
    bar.resize(static_cast<size_t>(width), ' ');
    s += " [" + bar + "]  " + human_size(e.current) + "/" + human_size(e.total);
  }
  return s;
}

void ProgressDisplay::operator()(const image::LayerEvent& e) {
  if (quiet_) return;
  std::lock_guard g(mu_);
  bool known = last_.count(e.id) > 0;
  if (!known) order_.push_back(e.id);
  auto prev = last_.find(e.id);
  bool same_status = known && prev->second.status == e.status;
  last_[e.id] = e;
  if (!tty_) {
    // Plain output: a line per status, none per chunk (logs stay readable).
    if (!same_status && e.status != image::LayerStatus::kDownloading && e.status != image::LayerStatus::kPushing)
      std::fprintf(out_, "%s\n", line(e).c_str());
    else if (!same_status)
      std::fprintf(out_, "%s: %s\n", e.id.c_str(), image::status_text(e.status));
    std::fflush(out_);
    return;
  }
  if (!known) {
    std::fprintf(out_, "%s\n", line(e).c_str());
  } else {
    size_t up = order_.size() - static_cast<size_t>(std::find(order_.begin(), order_.end(), e.id) - order_.begin());
    // Up to the layer's line, rewrite it, and back down.
    std::fprintf(out_, "\033[%zuA\r\033[2K%s\r\033[%zuB", up, line(e).c_str(), up);
  }
  std::fflush(out_);
}

}  // namespace guise::cli
