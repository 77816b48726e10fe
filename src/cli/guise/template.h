// docker's --format: Go's text/template over the JSON docker would print, the subset
// people use: {{.Field.Sub}}, {{json .X}}, {{index .M "key"}}, {{join .L ", "}},
// {{len .X}}, {{upper .X}}, {{lower .X}}, {{range .X}}...{{end}} (with {{.}} inside),
// {{if .X}}...{{else}}...{{end}}, and the "table" prefix (a header from the fields,
// columns aligned as docker's tabwriter does). "json" alone prints each object as JSON.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sys/result.h"

namespace guise::cli {

class Template {
 public:
  // An error names the template and what is wrong ("template: :1: unclosed action").
  static Result<Template> parse(std::string_view text);
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;
  ~Template();

  // An error when a field is missing in a way Go would refuse (a method call on a non-map).
  Result<std::string> render(const nlohmann::json& data) const;
  bool is_table() const { return table_; }
  // For "table ...": the header row, each {{.Field}} named as docker names it
  // (`headers` maps a field to its title, e.g. "ID" → "IMAGE ID"; others are upper-cased).
  std::string header(const std::vector<std::pair<std::string, std::string>>& headers) const;

  struct Node;

 private:
  Template() = default;
  std::vector<std::unique_ptr<Node>> nodes_;
  bool table_ = false;
};

// Go's tabwriter as docker sets it up (minwidth 10, padding 3, spaces): cells separated by
// '\t' in each line; a line's last cell is not padded.
std::string align_columns(const std::vector<std::string>& lines);

// Prints `rows` as --format asks: "" → `default_table`, "json" → one JSON object per line,
// "table ..." → aligned with a header, anything else → the template per row.
Result<std::string> format_rows(const std::string& format, const std::string& default_table,
                                const std::vector<nlohmann::json>& rows,
                                const std::vector<std::pair<std::string, std::string>>& headers);

}  // namespace guise::cli
