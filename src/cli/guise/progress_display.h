// docker's pull and push progress: on a terminal one line per layer, redrawn in place
// (with a bar while it downloads); otherwise a plain line per change of status; nothing
// when quiet. Events come from worker threads.
#pragma once

#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "image/progress.h"

namespace guise::cli {

class ProgressDisplay {
 public:
  ProgressDisplay(FILE* out, bool quiet);
  void operator()(const image::LayerEvent& e);
  image::ProgressFn fn() {
    return [this](const image::LayerEvent& e) { (*this)(e); };
  }

 private:
  std::string line(const image::LayerEvent& e) const;
  FILE* out_;
  bool quiet_, tty_;
  std::mutex mu_;
  std::vector<std::string> order_;
  std::map<std::string, image::LayerEvent> last_;
};

}  // namespace guise::cli
