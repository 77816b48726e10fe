#include "engine/monitor_logs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "sys/syscalls.h"

namespace guise::engine {

const char* stream_name(LogStream s) { return s == LogStream::kStdout ? "stdout" : "stderr"; }

std::string log_time(const struct timespec& ts) {
  struct tm tm {};
  ::gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  if (ts.tv_nsec != 0) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09ld", ts.tv_nsec);
    size_t len = 10;
    while (len > 1 && frac[len - 1] == '0') --len;
    frac[len] = '\0';
    n += std::snprintf(buf + n, sizeof buf - n, "%s", frac);
  }
  std::snprintf(buf + n, sizeof buf - n, "Z");
  return buf;
}

namespace {

// Length of the valid UTF-8 sequence at s[i], 0 when it is not one.
size_t utf8_length(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  if (len == 2 && c < 0xC2) return 0;  // overlong
  return len;
}

// As Go's encoding/json writes a string: <, >, & and U+2028/9 escaped, bytes that are
// not UTF-8 replaced by U+FFFD.
void append_json_string(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t len = utf8_length(s, i);
      if (len == 0) {
        out += "\\ufffd";
        ++i;
        continue;
      }
      std::string_view seq = s.substr(i, len);
      if (seq == "\xE2\x80\xA8") out += "\\u2028";
      else if (seq == "\xE2\x80\xA9") out += "\\u2029";
      else out += seq;
      i += len;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '<': case '>': case '&':
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

}  // namespace

std::string json_file_line(LogStream s, std::string_view text, std::string_view time) {
  std::string out = "{\"log\":";
  out.reserve(text.size() + 80);
  append_json_string(out, text);
  out += ",\"stream\":\"";
  out += stream_name(s);
  out += "\",\"time\":\"";
  out += time;
  out += "\"}\n";
  return out;
}

std::string k8s_file_line(LogStream s, std::string_view text, bool partial, std::string_view time) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  std::string out;
  out.reserve(text.size() + 48);
  out += time;
  out += ' ';
  out += stream_name(s);
  out += partial ? " P " : " F ";
  out += text;
  out += '\n';
  return out;
}

Result<std::unique_ptr<LogWriter>> LogWriter::open(const LogOptions& o) {
  if (o.driver != "json-file" && o.driver != "k8s-file" && o.driver != "none")
    return sys::user_error("unknown log driver " + o.driver);
  std::unique_ptr<LogWriter> w(new LogWriter(o));
  if (o.driver != "none") GUISE_TRY(w->reopen());
  return w;
}

Result<void> LogWriter::reopen() {
  fd_.reset(::open(o_.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  if (!fd_.valid()) return sys::sys_error("open log", o_.path);
  struct stat st {};
  if (::fstat(fd_.get(), &st) < 0) return sys::sys_error("stat log", o_.path);
  size_ = st.st_size;
  return Ok();
}

// ctr.log.(N-2) → ctr.log.(N-1), …, ctr.log → ctr.log.1; with one file, it starts over.
Result<void> LogWriter::rotate() {
  if (o_.max_file <= 1) {
    if (::ftruncate(fd_.get(), 0) < 0) return sys::sys_error("truncate log", o_.path);
    size_ = 0;
    return Ok();
  }
  for (int i = o_.max_file - 1; i >= 1; --i) {
    std::string from = i == 1 ? o_.path : o_.path + "." + std::to_string(i - 1);
    std::string to = o_.path + "." + std::to_string(i);
    if (::rename(from.c_str(), to.c_str()) < 0 && errno != ENOENT) return sys::sys_error("rotate log", from);
  }
  return reopen();
}

Result<void> LogWriter::append(LogStream s, std::string_view text, bool partial, const struct timespec& now) {
  std::string time = log_time(now);
  std::string line = o_.driver == "json-file" ? json_file_line(s, text, time) : k8s_file_line(s, text, partial, time);
  if (o_.max_size > 0 && size_ > 0 && size_ + static_cast<int64_t>(line.size()) > o_.max_size) GUISE_TRY(rotate());
  GUISE_TRY(sys::write_all(fd_.get(), line, "write log"), o_.path);
  size_ += static_cast<int64_t>(line.size());
  return Ok();
}

Result<void> LogWriter::write(LogStream s, std::string_view data, const struct timespec& now) {
  if (o_.driver == "none") return Ok();
  std::string& pending = pending_[s == LogStream::kStdout ? 0 : 1];
  while (!data.empty()) {
    size_t nl = data.find('\n');
    size_t room = kMaxLogLine - pending.size();
    if (nl != std::string_view::npos && nl < room) {
      pending.append(data.substr(0, nl + 1));
      data.remove_prefix(nl + 1);
      GUISE_TRY(append(s, pending, false, now));
      pending.clear();
    } else if (data.size() >= room) {
      pending.append(data.substr(0, room));
      data.remove_prefix(room);
      GUISE_TRY(append(s, pending, true, now));
      pending.clear();
    } else {
      pending.append(data);
      data = {};
    }
  }
  return Ok();
}

Result<void> LogWriter::flush(const struct timespec& now) {
  if (o_.driver == "none") return Ok();
  for (int i = 0; i < 2; ++i) {
    if (pending_[i].empty()) continue;
    GUISE_TRY(append(i == 0 ? LogStream::kStdout : LogStream::kStderr, pending_[i], true, now));
    pending_[i].clear();
  }
  if (o_.durable && ::fsync(fd_.get()) < 0 && errno != EINVAL) return sys::sys_error("fsync log", o_.path);
  return Ok();
}

}  // namespace guise::engine
