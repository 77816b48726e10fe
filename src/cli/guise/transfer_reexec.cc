// guise's side of transfer.h: no libcurl, no libarchive. A command that needs them runs
// in guise-full instead, by exec, so it keeps this process's pid, fds (stdin unread),
// terminal, environment and argv; what guise had done before (opened the store, the
// containers, the locks it took and released) guise-full does again harmlessly.
//
// Below, the functions of the transfer files (CMakeLists.txt GUISE_TRANSFER_SOURCES) that
// code linked here refers to. Their callers run only after need_transfer_code, i.e. in
// guise-full: reaching one here is a bug, and stops the process saying which. A link
// error naming another such function means a new caller: make its command call
// need_transfer_code (or have_transfer_code) first, then add the function here.
#include "cli/guise/transfer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "cli/guise/tree_tar.h"
#include "engine/attach.h"
#include "image/archive_load.h"
#include "image/archive_save.h"
#include "image/http.h"
#include "image/layer_stream.h"
#include "image/registry.h"
#include "image/registry_answers.h"
#include "image/unpack.h"

namespace guise {

namespace {

[[noreturn]] void not_linked(const char* what) {
  std::fprintf(stderr,
               "guise: internal error: %s is in guise-full only, and this command did not run it "
               "(src/cli/guise/transfer.h)\n",
               what);
  std::abort();
}

}  // namespace

}  // namespace guise

namespace guise::cli {

Result<void> need_transfer_code(const Context& ctx) {
  if (ctx.argv == nullptr) return sys::user_error("this command needs guise-full, and guise kept no command line to run it with");
  std::string full = engine::full_binary();
  // A guise installed as guise-full (or named by GUISE_FULL) would exec itself for ever.
  struct stat self {}, other {};
  if (::stat("/proc/self/exe", &self) == 0 && ::stat(full.c_str(), &other) == 0 && self.st_dev == other.st_dev &&
      self.st_ino == other.st_ino)
    return sys::user_error(full + " is this guise, not guise-full: this command needs guise-full beside guise");
  // Nothing should be waiting in a buffer yet; if it is, it is said once, here.
  std::fflush(nullptr);
  ::execv(full.c_str(), ctx.argv);
  return sys::sys_error("exec", full).with_context("this command runs in guise-full, installed beside guise");
}

bool have_transfer_code(Context& ctx) {
  auto r = need_transfer_code(ctx);
  ctx.fail(r.error());
  return false;
}

Result<void> write_tree_tar(int, int, const std::string&, const std::string&, const TreeTarOptions&) {
  not_linked("write_tree_tar");
}
Result<InRootPath> resolve_in_root(int, const std::string&, bool) { not_linked("resolve_in_root"); }

}  // namespace guise::cli

namespace guise::image {

Result<LayerStream> LayerStream::open(int, std::string) { not_linked("LayerStream"); }
LayerStream::LayerStream(LayerStream&&) noexcept { not_linked("LayerStream"); }
LayerStream::~LayerStream() { not_linked("LayerStream"); }
Result<std::string_view> LayerStream::next() { not_linked("LayerStream"); }
Result<LayerSum> sum_layer(const std::string&, const std::string&) { not_linked("sum_layer"); }
Result<UnpackStats> unpack_layer(int, int, const UnpackOptions&) { not_linked("unpack_layer"); }
Result<void> save_docker_archive(Store&, const std::vector<SaveImage>&, const std::string&) {
  not_linked("save_docker_archive");
}
Result<void> save_docker_archive(Store&, const std::vector<SaveImage>&, int) { not_linked("save_docker_archive"); }
Result<std::vector<LoadedImage>> load_archive(Store&, const std::string&) { not_linked("load_archive"); }
Result<std::unique_ptr<RegistryClient>> RegistryClient::connect(const std::string&, const RegistryOptions&) {
  not_linked("RegistryClient");
}
Result<HttpResponse> http_request(const HttpRequest&) { not_linked("http_request"); }
std::string url_origin(std::string_view) { not_linked("url_origin"); }
std::string url_escape(std::string_view) { not_linked("url_escape"); }
std::optional<std::pair<std::string, std::chrono::seconds>> parse_token_answer(std::string_view) {
  not_linked("parse_token_answer");
}

}  // namespace guise::image
