// Fault injection, for tests only. Sources compiled with GUISE_FAULT_INJECTION (the
// build-fault tree that scripts/test.sh makes with -DGUISE_FAULT_INJECTION=ON; never the
// shipped build, where GUISE_FAULT_POINT is nothing) count each step of a command at a
// GUISE_FAULT_POINT. With GUISE_FAULT_LOG=FILE each step passed appends one record to
// FILE, across every process of the command (the CLI, the monitor, the runtime, the
// exit command), and the record's place in FILE is the step's number; with
// GUISE_FAULT=N:fail step N returns an injected error, with N:kill it is killed by
// SIGKILL. A test walks N from 1 until FILE has fewer than N records.
#pragma once

#include <optional>

#include "sys/error.h"

namespace guise::sys {

// The injected error at the step the environment names, else nullopt (and the SIGKILL
// never returns).
std::optional<Error> fault_point(const char* name);

}  // namespace guise::sys

#ifdef GUISE_FAULT_INJECTION
#define GUISE_FAULT_POINT(name)                                                  \
  do {                                                                           \
    if (auto guise_fault_ = ::guise::sys::fault_point(name)) return std::move(*guise_fault_); \
  } while (0)
#else
#define GUISE_FAULT_POINT(name) \
  do {                          \
  } while (0)
#endif
