// ruleset_text: the plan printed the way `nft list table inet guise` prints the table
// (tabs, a blank line between chains), so a test compares it byte for byte.
#include "network/nft.h"
#include "network/nft_plan.h"

namespace guise::network {

std::string ruleset_text(const Ruleset& r) {
  auto p = nftplan::plan(r);
  if (!p.ok()) return "# " + p.error().message() + "\n";
  if (p->chains.empty()) return "";
  std::string out = "table inet " + r.table + " {\n";
  bool first = true;
  for (const auto& c : p->chains) {
    if (!first) out += "\n";
    first = false;
    out += "\tchain " + c.name + " {\n";
    if (c.base) out += "\t\ttype " + c.type + " hook " + c.name + " priority " + c.priority_text + "; policy accept;\n";
    for (const auto& rule : p->rules) {
      if (rule.chain != c.name) continue;
      out += "\t\t" + rule.text;
      if (!rule.comment.empty()) out += " comment \"" + rule.comment + "\"";
      out += "\n";
    }
    out += "\t}\n";
  }
  out += "}\n";
  return out;
}

}  // namespace guise::network
