// Private to src/oci/write*.cc: when a field is written (see oci/write.h), in one
// place, so that every writer leaves out exactly what the parser reads as absent.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "oci/spec.h"

namespace guise::oci::detail {

using OJson = nlohmann::ordered_json;

template <class T>
void put(OJson& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}

inline void put_true(OJson& j, const char* key, bool v) {
  if (v) j[key] = true;
}

inline void put_nonempty(OJson& j, const char* key, const std::string& v) {
  if (!v.empty()) j[key] = v;
}

inline void put_nonempty(OJson& j, const char* key, const std::map<std::string, std::string>& v) {
  if (!v.empty()) j[key] = v;
}

// Lists of strings or numbers; lists of objects go through put_list.
template <class T>
void put_nonempty(OJson& j, const char* key, const std::vector<T>& v) {
  if (!v.empty()) j[key] = v;
}

// A list of objects, each written by `one`.
template <class T, class F>
void put_list(OJson& j, const char* key, const std::vector<T>& v, F one) {
  if (v.empty()) return;
  OJson list = OJson::array();
  for (const auto& item : v) list.push_back(one(item));
  j[key] = std::move(list);
}

OJson id_mapping_json(const IdMapping& m);  // write.cc; idmapped mounts and linux share it

}  // namespace guise::oci::detail
