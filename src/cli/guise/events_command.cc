// guise events: docker's event stream, read from the store's append-only log
// (engine/events.h) and followed with inotify; plus `throttled` events this command
// makes itself by sampling running containers' cpu.stat about once a second. Nothing
// samples while nobody runs `guise events`: there is no daemon to pay for it.
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "cli/guise/container_common.h"
#include "cli/guise/stats_format.h"
#include "cli/guise/template.h"
#include "engine/event_query.h"
#include "engine/events.h"
#include "sys/fd.h"

namespace guise::cli {

namespace {

constexpr double kDefaultThrottleThreshold = 10.0;  // percent of periods throttled over ~1 s

struct EventsFlags {
  std::string since, until, format;
  std::vector<std::string> filters;
  double throttle_threshold = kDefaultThrottleThreshold;
  bool threshold_given = false;  // the flag wins over the environment
  std::string threshold_env;     // $GUISE_THROTTLE_THRESHOLD
};

class Printer {
 public:
  static Result<Printer> make(const std::string& format, engine::EventFilter filter, int64_t since, int64_t until) {
    Printer p;
    p.format_ = format;
    p.filter_ = std::move(filter);
    p.since_ = since, p.until_ = until;
    if (!format.empty() && format != "json") p.tmpl_.emplace(GUISE_TRY(Template::parse(format), "--format"));
    return p;
  }
  // false once past --until.
  bool print(const engine::Event& e) {
    if (until_ && e.time_ns > until_) return false;
    if ((since_ && e.time_ns < since_) || !engine::event_matches(filter_, e)) return true;
    if (format_.empty()) {
      std::printf("%s\n", engine::event_text(e).c_str());
    } else if (format_ == "json") {
      std::printf("%s\n", engine::event_json(e).c_str());
    } else {
      auto line = tmpl_->render(nlohmann::json::parse(engine::event_json(e)));
      if (line) std::printf("%s\n", line->c_str());
    }
    std::fflush(stdout);
    return true;
  }

 private:
  Printer() = default;
  std::string format_;
  std::optional<Template> tmpl_;
  engine::EventFilter filter_;
  int64_t since_ = 0, until_ = 0;
};

// Reads a log file from where it was left, line by line; a line still being written (no
// newline yet) waits for the next read.
class LogTail {
 public:
  explicit LogTail(std::string path) : path_(std::move(path)) {}
  void open_at_end(bool at_end) {
    fd_.reset(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd_.valid() && at_end) ::lseek(fd_.get(), 0, SEEK_END);
    buf_.clear();
  }
  // Calls `fn` for each whole new line; false when `fn` said stop.
  template <class Fn>
  bool drain(Fn fn) {
    if (!fd_.valid()) return true;
    char chunk[16384];
    ssize_t n;
    while ((n = ::read(fd_.get(), chunk, sizeof chunk)) > 0) {
      buf_.append(chunk, size_t(n));
      size_t start = 0;
      for (size_t nl; (nl = buf_.find('\n', start)) != std::string::npos; start = nl + 1) {
        auto e = engine::parse_event(std::string_view(buf_).substr(start, nl - start));
        if (e && !fn(*e)) return false;
      }
      buf_.erase(0, start);
    }
    return true;
  }
  // The path names another file than the one open: it was rotated (or made at last).
  bool replaced() const {
    struct stat a {}, b {};
    if (::stat(path_.c_str(), &a) != 0) return false;
    if (!fd_.valid()) return true;
    return ::fstat(fd_.get(), &b) != 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev;
  }

 private:
  std::string path_;
  sys::Fd fd_;
  std::string buf_;
};

void throttle_round(const engine::ContainerStore& cs, engine::ThrottleWatch& watch, Printer& out, bool& go_on) {
  auto ids = cs.list_ids();
  if (!ids) return;
  runtime::Globals g = runtime_globals(cs);
  std::vector<std::string> live;
  for (const auto& id : *ids) {
    auto st = engine::read_state(cs.paths(id));
    if (!st || st->status != "running") continue;
    auto rec = cs.read_record(id);
    if (!rec || (rec->runtime != "" && rec->runtime != "guise")) continue;  // only the library's cgroups are known
    auto stats = runtime::container_stats(g, id);
    if (!stats || !stats->cpu) continue;
    live.push_back(id);
    if (auto e = watch.update(id, *stats->cpu, engine::wall_now_ns())) {
      e->attributes["name"] = rec->name;
      e->attributes["image"] = rec->image;
      if (!out.print(*e)) go_on = false;
    }
  }
  watch.forget_others(live);
}

struct Window {
  int64_t since = 0, until = 0;  // 0: not given
  double threshold = kDefaultThrottleThreshold;
};

// The flag, else $GUISE_THROTTLE_THRESHOLD, else the default; a percentage.
Result<double> throttle_threshold(const EventsFlags& f) {
  double t = f.throttle_threshold;
  std::string from = "--throttle-threshold";
  if (!f.threshold_given && !f.threshold_env.empty()) {
    from = "$GUISE_THROTTLE_THRESHOLD";
    char* end = nullptr;
    t = std::strtod(f.threshold_env.c_str(), &end);
    if (end == f.threshold_env.c_str() || *end != '\0')
      return sys::user_error(from + " \"" + f.threshold_env + "\": not a number");
  }
  if (t < 0 || t > 100) return sys::user_error(from + " " + std::to_string(t) + ": not a percentage (0-100)");
  return t;
}

// The flags, checked before anything is read: each error names its flag (exit 125).
Result<Window> parse_window(const EventsFlags& f) {
  Window w;
  int64_t now = engine::wall_now_ns();
  if (!f.since.empty()) w.since = GUISE_TRY(parse_event_time(f.since, now, "--since"));
  if (!f.until.empty()) w.until = GUISE_TRY(parse_event_time(f.until, now, "--until"));
  w.threshold = GUISE_TRY(throttle_threshold(f));
  return w;
}

// New lines of the log as they are appended, and a round of throttle sampling about once
// a second, until --until passes or the printer says stop.
void follow(const engine::ContainerStore& cs, int inotify_fd, LogTail& tail, Printer& out, int64_t until,
            double threshold) {
  engine::ThrottleWatch throttle(threshold);
  bool go_on = true;
  auto print = [&](const engine::Event& e) { return go_on = out.print(e); };
  int64_t next_sample = 0;
  while (go_on) {
    int64_t t = engine::wall_now_ns();
    if (until && t >= until) return;
    if (t >= next_sample) {
      throttle_round(cs, throttle, out, go_on);
      next_sample = t + 1'000'000'000;
    }
    int64_t wake = until && until < next_sample ? until : next_sample;
    int timeout_ms = int((wake - engine::wall_now_ns()) / 1'000'000) + 1;
    pollfd p{inotify_fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms < 1 ? 1 : timeout_ms) <= 0) continue;
    char evbuf[4096];
    while (::read(inotify_fd, evbuf, sizeof evbuf) > 0) {
    }
    if (!tail.drain(print)) return;
    if (tail.replaced()) {  // rotated: what was left in the old file was read just above
      tail.open_at_end(false);
      tail.drain(print);
    }
  }
}

void events(Context& ctx, const EventsFlags& f) {
  auto w = parse_window(f);
  if (!w) return ctx.fail(w.error(), 125);
  auto filter = engine::parse_event_filters(f.filters);
  if (!filter) return ctx.fail(filter.error(), 125);
  auto printer = Printer::make(f.format, std::move(*filter), w->since, w->until);
  if (!printer) return ctx.fail(printer.error(), 125);
  auto cs = open_containers(ctx);
  if (!cs) return ctx.fail(cs.error());
  std::string path = engine::event_log_path(cs->root());

  // Watch before reading the past, so that nothing appended in between is missed.
  sys::Fd in(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!in.valid()) return ctx.fail(sys::sys_error("inotify_init1"));
  if (::inotify_add_watch(in.get(), cs->root().c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0)
    return ctx.fail(sys::sys_error("inotify_add_watch", cs->root()));
  LogTail tail(path);
  if (!f.since.empty()) {  // the past, the rotated file first
    bool go_on = true;
    auto print = [&](const engine::Event& e) { return go_on = printer->print(e); };
    LogTail old(path + ".1");
    old.open_at_end(false);
    old.drain(print);
    tail.open_at_end(false);
    if (go_on) tail.drain(print);
    if (!go_on) return;
  } else {
    tail.open_at_end(true);
  }
  if (w->until && w->until <= engine::wall_now_ns()) return;
  follow(*cs, in.get(), tail, *printer, w->until, w->threshold);
}

}  // namespace

void register_events_command(CLI::App& app, Context& ctx) {
  static EventsFlags ef;
  if (const char* env = std::getenv("GUISE_THROTTLE_THRESHOLD")) ef.threshold_env = env;
  auto* c = app.add_subcommand("events", "Get real time events from containers");
  c->add_option("--since", ef.since, "show events since this time (RFC 3339, Unix seconds, or a duration back)");
  c->add_option("--until", ef.until, "stream events until this time");
  c->add_option("-f,--filter", ef.filters, "filter output (type=, event=, container=, image=)");
  c->add_option("--format", ef.format, "json, or a Go template");
  auto* threshold = c->add_option("--throttle-threshold", ef.throttle_threshold,
                                  "percent of CPU periods throttled over ~1 s above which a container gets a "
                                  "`throttled` event (default 10, or $GUISE_THROTTLE_THRESHOLD)");
  c->callback([&ctx, threshold] {
    ef.threshold_given = threshold->count() > 0;
    events(ctx, ef);
  });
}

}  // namespace guise::cli
