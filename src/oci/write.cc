// oci::Spec and oci::Process -> JSON: the top level, process, root, mounts and
// hooks. The linux object is in write_linux.cc, linux.resources in write_resources.cc.
#include "oci/write.h"

#include "oci/write_detail.h"

namespace guise::oci {
namespace detail {

OJson id_mapping_json(const IdMapping& m) {
  return {{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.size}};
}

namespace {

OJson user_json(const User& u) {
  OJson j = {{"uid", u.uid}, {"gid", u.gid}};
  put(j, "umask", u.umask);
  put_nonempty(j, "additionalGids", u.additional_gids);
  return j;
}

OJson capabilities_json(const Capabilities& c) {
  // Present and empty is not absent: it empties every set.
  OJson j = OJson::object();
  put_nonempty(j, "bounding", c.bounding);
  put_nonempty(j, "effective", c.effective);
  put_nonempty(j, "inheritable", c.inheritable);
  put_nonempty(j, "permitted", c.permitted);
  put_nonempty(j, "ambient", c.ambient);
  return j;
}

OJson rlimit_json(const Rlimit& r) { return {{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}}; }

OJson scheduler_json(const Scheduler& s) {
  OJson j = {{"policy", s.policy}};
  put(j, "nice", s.nice);
  put(j, "priority", s.priority);
  put_nonempty(j, "flags", s.flags);
  put(j, "runtime", s.runtime);
  put(j, "deadline", s.deadline);
  put(j, "period", s.period);
  return j;
}

OJson mount_json(const Mount& m) {
  OJson j = {{"destination", m.destination}};
  put_nonempty(j, "type", m.type);
  put_nonempty(j, "source", m.source);
  put_nonempty(j, "options", m.options);
  put_list(j, "uidMappings", m.uid_mappings, id_mapping_json);
  put_list(j, "gidMappings", m.gid_mappings, id_mapping_json);
  return j;
}

OJson hook_json(const Hook& h) {
  OJson j = {{"path", h.path}};
  put_nonempty(j, "args", h.args);
  put_nonempty(j, "env", h.env);
  put(j, "timeout", h.timeout);
  return j;
}

OJson hooks_json(const Hooks& h) {
  OJson j = OJson::object();
  put_list(j, "prestart", h.prestart, hook_json);
  put_list(j, "createRuntime", h.create_runtime, hook_json);
  put_list(j, "createContainer", h.create_container, hook_json);
  put_list(j, "startContainer", h.start_container, hook_json);
  put_list(j, "poststart", h.poststart, hook_json);
  put_list(j, "poststop", h.poststop, hook_json);
  return j;
}

std::string text(const OJson& j) { return j.dump(-1, ' ', false, OJson::error_handler_t::replace); }

}  // namespace
}  // namespace detail

using detail::OJson;
using detail::put;
using detail::put_list;
using detail::put_nonempty;
using detail::put_true;

OJson to_json(const Process& p) {
  OJson j = OJson::object();
  put_true(j, "terminal", p.terminal);
  if (p.console_size) j["consoleSize"] = {{"height", p.console_size->height}, {"width", p.console_size->width}};
  j["user"] = detail::user_json(p.user);
  put_nonempty(j, "args", p.args);
  put_nonempty(j, "env", p.env);
  j["cwd"] = p.cwd;
  if (p.capabilities) j["capabilities"] = detail::capabilities_json(*p.capabilities);
  put_list(j, "rlimits", p.rlimits, detail::rlimit_json);
  put_true(j, "noNewPrivileges", p.no_new_privileges);
  put_nonempty(j, "apparmorProfile", p.apparmor_profile);
  put(j, "oomScoreAdj", p.oom_score_adj);
  if (p.scheduler) j["scheduler"] = detail::scheduler_json(*p.scheduler);
  put_nonempty(j, "selinuxLabel", p.selinux_label);
  if (p.io_priority) j["ioPriority"] = {{"class", p.io_priority->klass}, {"priority", p.io_priority->priority}};
  return j;
}

OJson to_json(const Spec& s) {
  OJson j = {{"ociVersion", s.oci_version}};
  if (s.process) j["process"] = to_json(*s.process);
  if (s.root) {
    OJson root = {{"path", s.root->path}};
    put_true(root, "readonly", s.root->readonly);
    j["root"] = std::move(root);
  }
  put_nonempty(j, "hostname", s.hostname);
  put_nonempty(j, "domainname", s.domainname);
  put_list(j, "mounts", s.mounts, detail::mount_json);
  if (s.hooks) j["hooks"] = detail::hooks_json(*s.hooks);
  put_nonempty(j, "annotations", s.annotations);
  if (s.linux) j["linux"] = to_json(*s.linux);
  return j;
}

std::string spec_json(const Spec& s) { return detail::text(to_json(s)); }
std::string process_json(const Process& p) { return detail::text(to_json(p)); }
std::string resources_json(const Resources& r) { return detail::text(to_json(r)); }

}  // namespace guise::oci
