// Rollback: undo steps registered as resources are made; run in reverse unless
// commit() was called. unwind(error) keeps the original error and adds each undo
// step's own failure to it; the destructor (an early return) runs them silently.
#pragma once

#include <functional>
#include <type_traits>
#include <vector>

#include "sys/result.h"

namespace guise::sys {

class Rollback {
 public:
  Rollback() = default;
  Rollback(const Rollback&) = delete;
  Rollback& operator=(const Rollback&) = delete;
  ~Rollback() { run(nullptr); }

  // `undo` returns Result<void>, or nothing where its failure is of no use to anyone.
  template <class F>
  void add(F undo) {
    if constexpr (std::is_void_v<std::invoke_result_t<F&>>)
      undos_.push_back([u = std::move(undo)]() mutable -> Result<void> {
        u();
        return Ok();
      });
    else
      undos_.push_back(std::move(undo));
  }
  void commit() { undos_.clear(); }
  // Undoes everything now; each failed step is added to `original`.
  void unwind(Error& original) { run(&original); }

 private:
  void run(Error* original) {
    while (!undos_.empty()) {
      auto undo = std::move(undos_.back());
      undos_.pop_back();
      auto r = undo();
      if (!r.ok() && original) original->add_cleanup_failure(r.error());
    }
  }
  std::vector<std::function<Result<void>()>> undos_;
};

}  // namespace guise::sys
