// config.json and process.json -> oci types: the top level, process, root,
// mounts and hooks. The linux object is in parse_linux.cc.
#include "oci/parse.h"

#include <array>
#include <set>

#include <nlohmann/json.hpp>

#include "oci/parse_json.h"
#include "oci/parse_reader.h"

namespace guise::oci {
namespace detail {

namespace {

// Linux's resource names, as getrlimit(2) lists them.
constexpr std::array<std::string_view, 16> kRlimits = {
    "RLIMIT_AS",      "RLIMIT_CORE",   "RLIMIT_CPU",    "RLIMIT_DATA",   "RLIMIT_FSIZE",   "RLIMIT_LOCKS",
    "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_NOFILE", "RLIMIT_NPROC",   "RLIMIT_RSS",
    "RLIMIT_RTPRIO",  "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK"};

constexpr std::array<std::string_view, 3> kIoPriorityClasses = {"IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
                                                                "IOPRIO_CLASS_IDLE"};

constexpr std::array<std::string_view, 7> kSchedPolicies = {"SCHED_OTHER", "SCHED_FIFO",  "SCHED_RR",
                                                            "SCHED_BATCH", "SCHED_ISO",   "SCHED_IDLE",
                                                            "SCHED_DEADLINE"};

constexpr std::array<std::string_view, 7> kSchedFlags = {
    "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM",        "SCHED_FLAG_DL_OVERRUN",
    "SCHED_FLAG_KEEP_POLICY",   "SCHED_FLAG_KEEP_PARAMS",    "SCHED_FLAG_UTIL_CLAMP_MIN",
    "SCHED_FLAG_UTIL_CLAMP_MAX"};

Result<void> read_absolute_path(const Node& obj, std::string_view key, std::string& out) {
  GUISE_TRY(required_field(obj, key, out));
  if (!is_absolute(out)) return obj.at(key).fail("must be an absolute path, got " + quote(out));
  return check_path_length(obj.at(key), out);
}

// argv and envp entries: the kernel refuses one longer than MAX_ARG_STRLEN at exec.
Result<void> check_exec_strings(const Node& list, const std::vector<std::string>& strings) {
  for (size_t i = 0; i < strings.size(); ++i)
    GUISE_TRY(check_length(list.at(i), strings[i], kArgStrMax, "MAX_ARG_STRLEN"));
  return Ok();
}

Result<void> check_lsm_label(const Node& obj, std::string_view key, const std::string& label) {
  return check_length(obj.at(key), label, kLsmLabelMax, "the kernel's limit on an LSM label");
}

}  // namespace

Result<void> read(const Node& n, ConsoleSize& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(required_field(n, "height", out.height));
  GUISE_TRY(required_field(n, "width", out.width));
  return Ok();
}

Result<void> read(const Node& n, User& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(optional_field(n, "uid", out.uid));
  GUISE_TRY(optional_field(n, "gid", out.gid));
  GUISE_TRY(optional_field(n, "umask", out.umask));
  GUISE_TRY(optional_field(n, "additionalGids", out.additional_gids));
  return Ok();
}

Result<void> read(const Node& n, Capabilities& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(optional_field(n, "bounding", out.bounding));
  GUISE_TRY(optional_field(n, "effective", out.effective));
  GUISE_TRY(optional_field(n, "inheritable", out.inheritable));
  GUISE_TRY(optional_field(n, "permitted", out.permitted));
  GUISE_TRY(optional_field(n, "ambient", out.ambient));
  return Ok();
}

Result<void> read(const Node& n, Rlimit& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(required_field(n, "type", out.type));
  if (!one_of(kRlimits, out.type)) return n.at("type").fail("unknown rlimit " + quote(out.type));
  GUISE_TRY(required_field(n, "hard", out.hard));
  GUISE_TRY(required_field(n, "soft", out.soft));
  if (out.soft > out.hard)
    return n.at("soft").fail("must not exceed hard (" + std::to_string(out.hard) + "), got " +
                             std::to_string(out.soft));
  return Ok();
}

Result<void> read(const Node& n, IoPriority& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(required_field(n, "class", out.klass));
  if (!one_of(kIoPriorityClasses, out.klass))
    return n.at("class").fail("unknown I/O priority class " + quote(out.klass) +
                              " (expected IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE)");
  GUISE_TRY(optional_field(n, "priority", out.priority));
  if (out.priority < 0 || out.priority > 7)
    return n.at("priority").fail("must be between 0 and 7, got " + std::to_string(out.priority));
  return Ok();
}

// runc 1.2's checks: nice in range, priority only for the real-time policies,
// runtime/deadline/period only for SCHED_DEADLINE.
Result<void> read(const Node& n, Scheduler& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(required_field(n, "policy", out.policy));
  if (!one_of(kSchedPolicies, out.policy))
    return n.at("policy").fail("unknown scheduling policy " + quote(out.policy));
  GUISE_TRY(optional_field(n, "nice", out.nice));
  if (out.nice && (*out.nice < -20 || *out.nice > 19))
    return n.at("nice").fail("must be between -20 and 19, got " + std::to_string(*out.nice));
  GUISE_TRY(optional_field(n, "priority", out.priority));
  bool realtime = out.policy == "SCHED_FIFO" || out.policy == "SCHED_RR";
  if (out.priority && *out.priority != 0 && !realtime)
    return n.at("priority").fail("only SCHED_FIFO and SCHED_RR take a priority, policy is " +
                                 quote(out.policy));
  GUISE_TRY(optional_field(n, "flags", out.flags));
  for (size_t i = 0; i < out.flags.size(); ++i)
    if (!one_of(kSchedFlags, out.flags[i]))
      return n.at("flags").at(i).fail("unknown scheduler flag " + quote(out.flags[i]));
  for (auto [key, field] : {std::pair{"runtime", &out.runtime}, std::pair{"deadline", &out.deadline},
                            std::pair{"period", &out.period}}) {
    GUISE_TRY(optional_field(n, key, *field));
    if (*field && **field != 0 && out.policy != "SCHED_DEADLINE")
      return n.at(key).fail("only SCHED_DEADLINE takes a " + std::string(key) + ", policy is " +
                            quote(out.policy));
  }
  return Ok();
}

// runc's validateProcessSpec, plus the kernel's ranges.
Result<void> read(const Node& n, Process& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(optional_field(n, "terminal", out.terminal));
  GUISE_TRY(optional_field(n, "consoleSize", out.console_size));
  GUISE_TRY(optional_field(n, "user", out.user));
  GUISE_TRY(optional_field(n, "args", out.args));
  if (out.args.empty()) return n.at("args").fail("must not be empty");
  GUISE_TRY(check_path_length(n.at("args").at(0), out.args[0]));
  GUISE_TRY(check_exec_strings(n.at("args"), out.args));
  GUISE_TRY(optional_field(n, "env", out.env));
  GUISE_TRY(check_exec_strings(n.at("env"), out.env));
  GUISE_TRY(optional_field(n, "cwd", out.cwd));
  if (out.cwd.empty()) return n.at("cwd").fail("must not be empty");
  if (!is_absolute(out.cwd)) return n.at("cwd").fail("must be an absolute path, got " + quote(out.cwd));
  GUISE_TRY(check_path_length(n.at("cwd"), out.cwd));
  GUISE_TRY(optional_field(n, "capabilities", out.capabilities));
  GUISE_TRY(optional_field(n, "rlimits", out.rlimits));
  std::set<std::string> seen;
  for (size_t i = 0; i < out.rlimits.size(); ++i)
    if (!seen.insert(out.rlimits[i].type).second)
      return n.at("rlimits").at(i).at("type").fail("duplicate rlimit " + quote(out.rlimits[i].type));
  GUISE_TRY(optional_field(n, "noNewPrivileges", out.no_new_privileges));
  GUISE_TRY(optional_field(n, "apparmorProfile", out.apparmor_profile));
  GUISE_TRY(check_lsm_label(n, "apparmorProfile", out.apparmor_profile));
  GUISE_TRY(optional_field(n, "oomScoreAdj", out.oom_score_adj));
  if (out.oom_score_adj && (*out.oom_score_adj < -1000 || *out.oom_score_adj > 1000))
    return n.at("oomScoreAdj").fail("must be between -1000 and 1000, got " + std::to_string(*out.oom_score_adj));
  GUISE_TRY(optional_field(n, "selinuxLabel", out.selinux_label));
  GUISE_TRY(check_lsm_label(n, "selinuxLabel", out.selinux_label));
  GUISE_TRY(optional_field(n, "ioPriority", out.io_priority));
  GUISE_TRY(optional_field(n, "scheduler", out.scheduler));
  return Ok();
}

Result<void> read(const Node& n, Root& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(required_field(n, "path", out.path));
  if (out.path.empty()) return n.at("path").fail("must not be empty");
  GUISE_TRY(check_path_length(n.at("path"), out.path));
  GUISE_TRY(optional_field(n, "readonly", out.readonly));
  return Ok();
}

Result<void> read(const Node& n, IdMapping& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(required_field(n, "containerID", out.container_id));
  GUISE_TRY(required_field(n, "hostID", out.host_id));
  GUISE_TRY(required_field(n, "size", out.size));
  if (out.size == 0) return n.at("size").fail("must be greater than 0, got 0");
  return Ok();
}

Result<void> read(const Node& n, Mount& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(read_absolute_path(n, "destination", out.destination));
  GUISE_TRY(optional_field(n, "source", out.source));
  GUISE_TRY(check_path_length(n.at("source"), out.source));
  GUISE_TRY(optional_field(n, "type", out.type));
  GUISE_TRY(optional_field(n, "options", out.options));
  GUISE_TRY(optional_field(n, "uidMappings", out.uid_mappings));
  GUISE_TRY(optional_field(n, "gidMappings", out.gid_mappings));
  // An idmapped mount maps both ids (runtime-spec config.md, mounts).
  if (!out.uid_mappings.empty() && out.gid_mappings.empty())
    return n.at("gidMappings").fail("required when uidMappings is set");
  if (!out.gid_mappings.empty() && out.uid_mappings.empty())
    return n.at("uidMappings").fail("required when gidMappings is set");
  return Ok();
}

Result<void> read(const Node& n, Hook& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(read_absolute_path(n, "path", out.path));
  GUISE_TRY(optional_field(n, "args", out.args));
  GUISE_TRY(check_exec_strings(n.at("args"), out.args));
  GUISE_TRY(optional_field(n, "env", out.env));
  GUISE_TRY(check_exec_strings(n.at("env"), out.env));
  GUISE_TRY(optional_field(n, "timeout", out.timeout));
  if (out.timeout && *out.timeout <= 0)
    return n.at("timeout").fail("must be greater than 0, got " + std::to_string(*out.timeout));
  return Ok();
}

Result<void> read(const Node& n, Hooks& out) {
  GUISE_TRY(n.expect_object());
  GUISE_TRY(optional_field(n, "prestart", out.prestart));
  GUISE_TRY(optional_field(n, "createRuntime", out.create_runtime));
  GUISE_TRY(optional_field(n, "createContainer", out.create_container));
  GUISE_TRY(optional_field(n, "startContainer", out.start_container));
  GUISE_TRY(optional_field(n, "poststart", out.poststart));
  GUISE_TRY(optional_field(n, "poststop", out.poststop));
  return Ok();
}

namespace {

// runc's hostname validator: any UTS namespace entry counts, joined or new.
Result<void> check_uts(const Node& top, const Spec& s) {
  bool uts = s.has_namespace(NamespaceType::kUts);
  if (!s.hostname.empty() && !uts)
    return top.at("hostname").fail("unable to set hostname without a private UTS namespace");
  if (!s.domainname.empty() && !uts)
    return top.at("domainname").fail("unable to set domainname without a private UTS namespace");
  return Ok();
}

Result<void> read_spec(const Node& top, Spec& s) {
  GUISE_TRY(top.expect_object());
  GUISE_TRY(required_field(top, "ociVersion", s.oci_version));
  if (s.oci_version.empty()) return top.at("ociVersion").fail("must not be empty");
  GUISE_TRY(optional_field(top, "process", s.process));
  if (!top.at("root").present()) return top.at("root").fail("is required");
  GUISE_TRY(optional_field(top, "root", s.root));
  GUISE_TRY(optional_field(top, "hostname", s.hostname));
  GUISE_TRY(check_length(top.at("hostname"), s.hostname, kHostNameMax, "HOST_NAME_MAX"));
  GUISE_TRY(optional_field(top, "domainname", s.domainname));
  GUISE_TRY(check_length(top.at("domainname"), s.domainname, kHostNameMax, "HOST_NAME_MAX"));
  GUISE_TRY(optional_field(top, "mounts", s.mounts));
  GUISE_TRY(optional_field(top, "hooks", s.hooks));
  GUISE_TRY(optional_field(top, "annotations", s.annotations));
  GUISE_TRY(optional_field(top, "linux", s.linux));
  GUISE_TRY(check_uts(top, s));
  return Ok();
}

}  // namespace
}  // namespace detail

Result<Spec> parse_spec(std::string_view json_text, const std::string& origin) {
  detail::Json doc = GUISE_TRY(detail::parse_document(json_text, origin));
  Spec spec;
  GUISE_TRY(detail::read_spec(detail::Node(&doc, "", &origin), spec));
  return spec;
}

Result<Process> parse_process(std::string_view json_text, const std::string& origin) {
  detail::Json doc = GUISE_TRY(detail::parse_document(json_text, origin));
  Process process;
  GUISE_TRY(detail::read(detail::Node(&doc, "", &origin), process));
  return process;
}

Result<Resources> parse_resources(std::string_view json_text, const std::string& origin) {
  nlohmann::json value = GUISE_TRY(detail::parse_document(json_text, origin, "linux.resources"));
  if (value.is_null()) return Resources{};
  // The spec parser knows every field and names the path of a bad one; it is given a
  // config that holds nothing but these resources.
  nlohmann::json doc = {{"ociVersion", "1.0.2"}, {"root", {{"path", "/"}}}, {"linux", {{"resources", value}}}};
  Spec spec = GUISE_TRY(parse_spec(doc.dump(), origin));
  return spec.linux && spec.linux->resources ? *spec.linux->resources : Resources{};
}

}  // namespace guise::oci
