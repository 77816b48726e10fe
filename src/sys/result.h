// Result<T>: a value or an Error. Fallible functions return it; nothing throws
// across the clone boundary.
#pragma once

#include <optional>
#include <utility>
#include <variant>

#include "sys/error.h"

namespace guise {

using sys::Error;

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}
  template <class U>
    requires(std::is_constructible_v<T, U &&> && !std::is_same_v<std::decay_t<U>, Error> &&
             !std::is_same_v<std::decay_t<U>, T>)
  Result(U&& value) : v_(std::in_place_index<0>, T(std::forward<U>(value))) {}

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T take() && { return std::move(std::get<0>(v_)); }
  Error& error() & { return std::get<1>(v_); }
  const Error& error() const& { return std::get<1>(v_); }
  T* operator->() { return &value(); }
  T& operator*() { return value(); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : e_(std::move(error)) {}
  bool ok() const noexcept { return !e_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  void take() && {}
  Error& error() & { return *e_; }
  const Error& error() const& { return *e_; }

 private:
  std::optional<Error> e_;
};

inline Result<void> Ok() { return {}; }

}  // namespace guise

// Evaluates a Result; on error returns it from the enclosing function with an
// optional context step pushed; on success yields the value (GNU statement expression).
//   auto fd = GUISE_TRY(open_in_root(root, path), "preparing rootfs");
#define GUISE_TRY(expr, ...)                                      \
  ({                                                              \
    auto&& guise_try_r_ = (expr);                                 \
    if (!guise_try_r_.ok())                                       \
      return std::move(guise_try_r_.error()).with_context(__VA_ARGS__); \
    std::move(guise_try_r_).take();                               \
  })
