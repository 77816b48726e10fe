#include "image/reference.h"

#include "sys/text.h"

#include <cctype>

namespace guise::image {

namespace {

constexpr size_t kNameMax = 255;  // distribution's NameTotalLengthMax

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)*
bool valid_component(std::string_view c) {
  if (c.empty() || !lower_alnum(c.front()) || !lower_alnum(c.back())) return false;
  for (size_t i = 0; i < c.size();) {
    if (lower_alnum(c[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < c.size() && !lower_alnum(c[j])) ++j;
    std::string_view sep = c.substr(i, j - i);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
    i = j;
  }
  return true;
}

// A domain: host components of [a-zA-Z0-9-] (or a bracketed IPv6 address), then :PORT.
bool valid_domain(std::string_view d) {
  if (d.empty()) return false;
  std::string_view host = d, port;
  if (d.front() == '[') {
    auto close = d.find(']');
    if (close == std::string_view::npos) return false;
    host = d.substr(0, close + 1);
    port = d.substr(close + 1);
    if (!port.empty() && port.front() != ':') return false;
  } else if (auto colon = d.rfind(':'); colon != std::string_view::npos) {
    host = d.substr(0, colon);
    port = d.substr(colon);
  }
  if (!port.empty()) {
    if (port.size() < 2) return false;
    for (char c : port.substr(1))
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  if (host.front() == '[') return host.size() > 2;
  size_t start = 0;
  while (start <= host.size()) {
    size_t dot = host.find('.', start);
    std::string_view part = host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (part.empty() || part.front() == '-' || part.back() == '-') return false;
    for (char c : part)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

// [\w][\w.-]{0,127}
bool valid_tag(std::string_view t) {
  if (t.empty() || t.size() > 128) return false;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(t.front())) return false;
  for (char c : t)
    if (!word(c) && c != '.' && c != '-') return false;
  return true;
}

}  // namespace

std::string Reference::str() const {
  std::string out = name();
  if (!tag.empty()) out += ":" + tag;
  if (digest) out += "@" + digest->str();
  return out;
}

std::string Reference::familiar() const {
  std::string out = name();
  // Without its domain, a docker.io path whose first component reads as a domain
  // ("docker.io/a.b/c") would name another registry: that one keeps "docker.io/".
  std::string_view head = std::string_view(path).substr(0, path.find('/'));
  bool head_reads_as_domain = path.find('/') != std::string::npos &&
                              (head.find('.') != std::string_view::npos ||
                               head.find(':') != std::string_view::npos || head == "localhost");
  if (domain == kDefaultDomain && !head_reads_as_domain) {
    out = path;
    if (out.rfind("library/", 0) == 0 && out.find('/', 8) == std::string::npos) out = out.substr(8);
  }
  if (!tag.empty()) out += ":" + tag;
  if (digest) out += "@" + digest->str();
  return out;
}

Result<Reference> parse_reference(std::string_view text) {
  const std::string shown = sys::printable(text, 300);
  auto bad = [&](const std::string& why) {
    return sys::user_error("invalid reference format" + (why.empty() ? "" : ": " + why) + " (\"" + shown + "\")");
  };
  if (text.empty()) return bad("empty");
  Reference ref;
  std::string_view rest = text;
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    auto d = parse_digest(rest.substr(at + 1));
    if (!d.ok()) return bad(d.error().message());
    ref.digest = std::move(d).take();
    rest = rest.substr(0, at);
  }
  // A tag follows the last ':' after the last '/' (a ':' before it is a port).
  auto slash = rest.rfind('/');
  auto colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    ref.tag = std::string(rest.substr(colon + 1));
    if (!valid_tag(ref.tag)) return bad("tag \"" + sys::printable(ref.tag, 140) + "\" is not [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    rest = rest.substr(0, colon);
  }
  std::string_view path = rest;
  auto first = rest.find('/');
  if (first != std::string_view::npos) {
    std::string_view head = rest.substr(0, first);
    if (head.find('.') != std::string_view::npos || head.find(':') != std::string_view::npos || head == "localhost") {
      if (!valid_domain(head)) return bad("registry \"" + sys::printable(head) + "\" is not a host[:port]");
      ref.domain = std::string(head);
      path = rest.substr(first + 1);
    }
  }
  if (ref.domain.empty() || ref.domain == "index.docker.io") ref.domain = kDefaultDomain;
  for (char c : path)
    if (std::isupper(static_cast<unsigned char>(c))) return bad("repository name must be lowercase");
  size_t start = 0;
  while (true) {
    size_t next = path.find('/', start);
    std::string_view comp = path.substr(start, next == std::string_view::npos ? std::string_view::npos : next - start);
    if (!valid_component(comp)) return bad(comp.empty() ? "empty path component" : "\"" + sys::printable(comp) + "\" is not a valid repository name component");
    if (next == std::string_view::npos) break;
    start = next + 1;
  }
  ref.path = std::string(path);
  if (ref.domain == kDefaultDomain && ref.path.find('/') == std::string::npos) ref.path = "library/" + ref.path;
  if (ref.name().size() > kNameMax) return bad("repository name longer than 255 characters");
  if (ref.tag.empty() && !ref.digest) ref.tag = "latest";
  return ref;
}

}  // namespace guise::image
