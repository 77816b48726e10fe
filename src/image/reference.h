// Image references as docker reads them: [DOMAIN[:PORT]/]PATH[:TAG][@DIGEST], normalised
// so that "busybox" is docker.io/library/busybox:latest (distribution's reference
// grammar and docker's normalisation: the first component is a domain only when it has
// a '.' or a ':' or is "localhost").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "image/digest.h"
#include "sys/result.h"

namespace guise::image {

inline constexpr const char* kDefaultDomain = "docker.io";

struct Reference {
  std::string domain;  // "docker.io", "localhost:5000"
  std::string path;    // "library/busybox"
  std::string tag;     // "" only when a digest is given without a tag
  std::optional<Digest> digest;

  std::string name() const { return domain + "/" + path; }  // docker.io/library/busybox
  std::string str() const;       // docker.io/library/busybox:latest[@sha256:...]
  // As docker prints it: busybox:latest, localhost:5000/x:1; but docker.io/a.b/c keeps its
  // domain, so that the text always reads back as this reference (`save`'s RepoTags).
  std::string familiar() const;
};

// An error names the text and what is wrong with it, in docker's words where docker
// has them ("invalid reference format: repository name must be lowercase").
Result<Reference> parse_reference(std::string_view text);

}  // namespace guise::image
