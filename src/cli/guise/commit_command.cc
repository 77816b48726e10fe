// docker commit: the container's writable layer (its overlay upper dir) as a new layer on
// top of its image. The upper dir is tarred with overlay's whiteouts turned back into
// .wh. entries, stored as a layer blob and unpacked as a snapshot; the new config is the
// image's with the container's Config, the new diff_id, a history entry and --change.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/guise/container_common.h"
#include "cli/guise/transfer.h"
#include "cli/guise/tree_tar.h"
#include "image/image_commit.h"
#include "image/layer_stream.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/store_files.h"
#include "sys/clock.h"
#include "sys/syscalls.h"

namespace guise::cli {

using nlohmann::json;

namespace {

struct CommitFlags {
  std::string message, author, container, reference;
  std::vector<std::string> changes;
  bool pause = true;
};

// "CMD [\"a\"]" or "CMD a b" (run by /bin/sh -c, as a Dockerfile's shell form).
json command_form(const std::string& rest) {
  json parsed = json::parse(rest, nullptr, false);
  if (parsed.is_array()) return parsed;
  return json::array({"/bin/sh", "-c", rest});
}

// docker's --change: the Dockerfile instructions that change the config.
Result<void> apply_change(json& c, const std::string& change) {
  auto sp = change.find_first_of(" =");
  std::string word = change.substr(0, change.find(' ')), rest;
  if (change.find(' ') != std::string::npos) rest = change.substr(change.find(' ') + 1);
  (void)sp;
  while (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
  for (auto& ch : word) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  auto key_values = [&](json& target) {
    // KEY=VALUE pairs, or the old "KEY VALUE" form.
    if (rest.find('=') == std::string::npos) {
      auto s = rest.find(' ');
      target[rest.substr(0, s)] = s == std::string::npos ? "" : rest.substr(s + 1);
      return;
    }
    size_t i = 0;
    while (i < rest.size()) {
      size_t end = rest.find(' ', i);
      if (end == std::string::npos) end = rest.size();
      std::string kv = rest.substr(i, end - i);
      auto eq = kv.find('=');
      std::string v = eq == std::string::npos ? "" : kv.substr(eq + 1);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      if (!kv.empty()) target[kv.substr(0, eq)] = v;
      i = end + 1;
    }
  };
  if (word == "CMD") {
    c["Cmd"] = command_form(rest);
  } else if (word == "ENTRYPOINT") {
    c["Entrypoint"] = command_form(rest);
  } else if (word == "WORKDIR") {
    c["WorkingDir"] = rest;
  } else if (word == "USER") {
    c["User"] = rest;
  } else if (word == "STOPSIGNAL") {
    c["StopSignal"] = rest;
  } else if (word == "ENV") {
    json kv = json::object();
    key_values(kv);
    json env = c.contains("Env") && c["Env"].is_array() ? c["Env"] : json::array();
    for (const auto& [k, v] : kv.items()) {
      json kept = json::array();
      for (const auto& e : env)
        if (e.get<std::string>().rfind(k + "=", 0) != 0) kept.push_back(e);
      kept.push_back(k + "=" + v.get<std::string>());
      env = kept;
    }
    c["Env"] = env;
  } else if (word == "LABEL") {
    if (!c.contains("Labels") || !c["Labels"].is_object()) c["Labels"] = json::object();
    key_values(c["Labels"]);
  } else if (word == "EXPOSE") {
    if (!c.contains("ExposedPorts") || !c["ExposedPorts"].is_object()) c["ExposedPorts"] = json::object();
    size_t i = 0;
    while (i < rest.size()) {
      size_t end = rest.find(' ', i);
      if (end == std::string::npos) end = rest.size();
      std::string p = rest.substr(i, end - i);
      if (!p.empty()) c["ExposedPorts"][p.find('/') == std::string::npos ? p + "/tcp" : p] = json::object();
      i = end + 1;
    }
  } else if (word == "VOLUME") {
    if (!c.contains("Volumes") || !c["Volumes"].is_object()) c["Volumes"] = json::object();
    json list = json::parse(rest, nullptr, false);
    if (!list.is_array()) list = json::array({rest});
    for (const auto& v : list) c["Volumes"][v.get<std::string>()] = json::object();
  } else {
    return sys::user_error(word + " is not a valid change command");
  }
  return Ok();
}

struct TempFile {
  std::string path;
  sys::Fd fd;
  ~TempFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

Result<image::Digest> commit(Context& ctx, const CommitFlags& f) {
  std::string name;
  if (!f.reference.empty()) {
    auto ref = GUISE_TRY(image::parse_reference(f.reference));
    if (ref.digest) return sys::user_error("refusing to create a tag with a digest reference");
    name = ref.str();
  }
  auto cs = GUISE_TRY(open_containers(ctx));
  auto id = GUISE_TRY(cs.resolve(f.container));
  auto rec = GUISE_TRY(cs.read_record(id));
  auto store = GUISE_TRY(ctx.open_store());
  auto rootfs = GUISE_TRY(store.get_rootfs(id));
  if (!rootfs) return sys::not_found("the writable layer of container " + f.container + " is gone");
  auto base_id = GUISE_TRY(image::parse_digest(rec.image_id));
  auto base = GUISE_TRY(store.get_image(base_id));
  if (!base) return sys::not_found("No such image: " + rec.image_id);
  std::string base_config_text = GUISE_TRY(store.content().read(base->id));
  json config = json::parse(base_config_text, nullptr, false);
  json base_manifest = json::parse(GUISE_TRY(store.content().read(base->manifest)), nullptr, false);
  if (!config.is_object() || !base_manifest.is_object()) return sys::user_error("the image of " + f.container + " is damaged");

  image::Store::Lease lease = GUISE_TRY(store.take_lease());
  TempFile tmp;
  tmp.path = image::store_files::tmp_name(store.root(), "commit");
  tmp.fd.reset(::open(tmp.path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!tmp.fd.valid()) {
    tmp.path.clear();
    return sys::sys_error("create", tmp.path);
  }
  sys::Fd upper(::open(rootfs->upper.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!upper.valid()) return sys::sys_error("open", rootfs->upper);
  TreeTarOptions o;
  o.overlay_whiteouts = true;
  GUISE_TRY(write_tree_tar(tmp.fd.get(), upper.get(), ".", "", o));
  if (::lseek(tmp.fd.get(), 0, SEEK_SET) < 0) return sys::sys_error("seek", tmp.path);
  auto stream = GUISE_TRY(image::LayerStream::open(tmp.fd.get(), "the container's layer"));
  for (;;) {
    std::string_view chunk = GUISE_TRY(stream.next());
    if (chunk.empty()) break;
  }
  image::Digest diff_id = stream.digest();
  int64_t layer_size = static_cast<int64_t>(stream.bytes());
  lease.add(diff_id);
  GUISE_TRY(image::put_blob_file(store.content(), tmp.path, diff_id, layer_size, "the container's layer"));

  // The new config.
  std::string created = sys::now_rfc3339();
  if (!config["rootfs"].is_object()) config["rootfs"] = {{"type", "layers"}, {"diff_ids", json::array()}};
  config["rootfs"]["diff_ids"].push_back(diff_id.str());
  json c = config.contains("config") && config["config"].is_object() ? config["config"] : json::object();
  for (const char* key : {"Cmd", "Entrypoint", "Env", "WorkingDir", "User", "ExposedPorts", "Labels", "Volumes",
                          "StopSignal", "Healthcheck", "OnBuild", "Hostname", "Domainname", "AttachStdin",
                          "AttachStdout", "AttachStderr", "Tty", "OpenStdin", "StdinOnce"})
    if (rec.config.contains(key)) c[key] = rec.config[key];
  for (const auto& change : f.changes) GUISE_TRY(apply_change(c, change));
  config["config"] = c;
  config["created"] = created;
  if (!f.author.empty()) config["author"] = f.author;
  else config.erase("author");
  config["container"] = id;
  std::string created_by = rec.path;
  for (const auto& a : rec.args) created_by += " " + a;
  json h = {{"created", created}, {"created_by", created_by}};
  if (!f.author.empty()) h["author"] = f.author;
  if (!f.message.empty()) h["comment"] = f.message;
  if (!config.contains("history") || !config["history"].is_array()) config["history"] = json::array();
  config["history"].push_back(h);
  if (!f.message.empty()) config["comment"] = f.message;
  else config.erase("comment");
  std::string config_text = config.dump();
  image::Digest new_id = image::sha256_of(config_text);
  lease.add(new_id);
  GUISE_TRY(store.content().put(config_text));
  auto parsed = GUISE_TRY(image::parse_config(config_text));

  std::vector<image::SnapshotInfo> snapshots;
  for (const auto& chain : base->chain_ids) {
    auto s = store.snapshot(chain);
    if (!s) return sys::not_found("the layers of image " + rec.image_id + " are incomplete");
    snapshots.push_back(*s);
  }
  image::Digest chain_id = image::chain_ids(parsed.diff_ids).back();
  lease.add_snapshot(chain_id);
  snapshots.push_back(GUISE_TRY(image::ensure_snapshot(store, diff_id, chain_id, diff_id, "the container's layer")));

  std::vector<image::Descriptor> layers;
  for (const auto& l : base_manifest.value("layers", json::array())) {
    image::Descriptor d;
    d.media_type = l.value("mediaType", std::string(image::media::kOciLayer));
    d.digest = GUISE_TRY(image::parse_digest(l.value("digest", "")));
    d.size = l.value("size", int64_t{0});
    layers.push_back(d);
  }
  layers.push_back({.media_type = std::string(image::media::kOciLayer), .digest = diff_id, .size = layer_size});
  image::Descriptor config_desc{.media_type = std::string(image::media::kOciConfig), .digest = new_id,
                                .size = static_cast<int64_t>(config_text.size())};
  std::string manifest = image::oci_manifest_json(config_desc, layers);
  lease.add(image::sha256_of(manifest));
  image::Digest manifest_digest = GUISE_TRY(store.content().put(manifest));
  auto record = image::image_record(new_id, parsed, manifest_digest, std::string(image::media::kOciManifest), snapshots);
  std::vector<std::pair<std::string, image::Digest>> names;
  if (!name.empty()) names.emplace_back(name, new_id);
  GUISE_TRY(image::commit_images(store, {record}, names));
  return new_id;
}

}  // namespace

void register_commit_command(CLI::App& app, Context& ctx) {
  static CommitFlags f;
  for (auto* c : {app.add_subcommand("commit", "Create a new image from a container's changes"),
                  app.get_subcommand("container")->add_subcommand("commit", "Create a new image from a container's changes")}) {
    c->add_option("-m,--message", f.message, "commit message");
    c->add_option("-a,--author", f.author, "author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")");
    c->add_option("-c,--change", f.changes, "apply Dockerfile instruction to the created image");
    c->add_option("-p,--pause", f.pause, "pause container during commit (default true)")->expected(0, 1);
    c->add_option("CONTAINER", f.container)->required();
    c->add_option("REPOSITORY", f.reference, "REPOSITORY[:TAG]");
    c->callback([&ctx] {
      if (!have_transfer_code(ctx)) return;
      auto id = commit(ctx, f);
      if (!id) return ctx.fail(id.error());
      std::printf("%s\n", id->str().c_str());
    });
  }
}

}  // namespace guise::cli
