// The container's log as docker and CRI write it. The monitor hands over output as it
// reads it; a writer cuts it into lines, stamps each with the time it was read, and
// appends them to ctr.log, rotating by size.
//   json-file: {"log":"text\n","stream":"stdout","time":"2024-01-01T00:00:00.123456789Z"}
//   k8s-file:  2024-01-01T00:00:00.123456789Z stdout F text
// A line longer than kMaxLogLine is cut into pieces: json-file's pieces lack the "\n",
// k8s-file's are tagged P; so is a last line without its newline, written at flush.
#pragma once

#include <time.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sys/fd.h"
#include "sys/result.h"

namespace guise::engine {

enum class LogStream { kStdout, kStderr };
const char* stream_name(LogStream s);

inline constexpr size_t kMaxLogLine = 16 * 1024;  // docker's and CRI's cut

// RFC 3339 with nanoseconds in UTC, trailing zeros of the fraction dropped as Go's
// time.RFC3339Nano does ("…:05.1Z", "…:05Z").
std::string log_time(const struct timespec& ts);

// One record. `text` is a whole line with its "\n", or a piece without it (partial).
std::string json_file_line(LogStream s, std::string_view text, std::string_view time);
std::string k8s_file_line(LogStream s, std::string_view text, bool partial, std::string_view time);

struct LogOptions {
  std::string driver = "json-file";  // json-file, k8s-file, none
  std::string path;                  // ctr.log; rotated ones are path.1 … path.(max_file-1)
  int64_t max_size = 0;              // 0: never rotated
  int max_file = 1;                  // 1: the file is truncated when full, as docker does
  bool durable = true;               // fsync at the end (not for a --rm container's log)
};

class LogWriter {
 public:
  static Result<std::unique_ptr<LogWriter>> open(const LogOptions& o);
  // Output as read from the stream, at `now`; whole lines are written at once.
  Result<void> write(LogStream s, std::string_view data, const struct timespec& now);
  // The last partial line of each stream (at exit), then fsync (when durable).
  Result<void> flush(const struct timespec& now);

 private:
  explicit LogWriter(LogOptions o) : o_(std::move(o)) {}
  Result<void> append(LogStream s, std::string_view text, bool partial, const struct timespec& now);
  Result<void> rotate();
  Result<void> reopen();
  LogOptions o_;
  sys::Fd fd_;
  int64_t size_ = 0;
  std::string pending_[2];  // what followed the last newline, per stream
};

}  // namespace guise::engine
