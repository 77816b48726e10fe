#pragma once
#include <string>
namespace guise::cli {
// The OCI runtime features document: what this build and this kernel support.
std::string features_json();
}  // namespace guise::cli
