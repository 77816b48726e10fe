// Rollback: undo steps registered as resources are made; run in reverse on
// destruction unless commit() was called. Keeps the original error intact.
#pragma once

#include <functional>
#include <vector>

namespace guise::sys {

class Rollback {
 public:
  Rollback() = default;
  Rollback(const Rollback&) = delete;
  Rollback& operator=(const Rollback&) = delete;
  ~Rollback() { run(); }

  void add(std::function<void()> undo) { undos_.push_back(std::move(undo)); }
  void commit() { undos_.clear(); }
  void run() {
    while (!undos_.empty()) {
      auto undo = std::move(undos_.back());
      undos_.pop_back();
      undo();
    }
  }

 private:
  std::vector<std::function<void()>> undos_;
};

}  // namespace guise::sys
