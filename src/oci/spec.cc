#include "oci/spec.h"

namespace guise::oci {

const Namespace* Spec::find_namespace(NamespaceType t) const {
  if (!linux) return nullptr;
  for (const auto& ns : linux->namespaces)
    if (ns.type == t) return &ns;
  return nullptr;
}

bool Spec::has_namespace(NamespaceType t) const { return find_namespace(t) != nullptr; }

const char* namespace_type_name(NamespaceType t) {
  switch (t) {
    case NamespaceType::kPid: return "pid";
    case NamespaceType::kNetwork: return "network";
    case NamespaceType::kMount: return "mount";
    case NamespaceType::kIpc: return "ipc";
    case NamespaceType::kUts: return "uts";
    case NamespaceType::kUser: return "user";
    case NamespaceType::kCgroup: return "cgroup";
    case NamespaceType::kTime: return "time";
  }
  return "?";
}

}  // namespace guise::oci
