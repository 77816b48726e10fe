#include "cli/guise/template.h"

#include <algorithm>
#include <cctype>

namespace guise::cli {

using nlohmann::json;

namespace {

Error template_error(const std::string& why) { return sys::user_error("template: " + why); }

// One argument of an action: the dot, a field path (.A.B), or a string literal.
struct Arg {
  enum Kind { kDot, kField, kString } kind = kDot;
  std::vector<std::string> path;
  std::string text;
};

struct Pipeline {
  std::string func;  // "" when the action is a lone argument
  std::vector<Arg> args;
};

// Go's default printing of a value (fmt's %v) for what JSON holds.
std::string go_print(const json& v) {
  switch (v.type()) {
    case json::value_t::string: return v.get<std::string>();
    case json::value_t::null: return "<nil>";
    case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case json::value_t::number_float: {
      double d = v.get<double>();
      if (d == static_cast<double>(static_cast<int64_t>(d))) return std::to_string(static_cast<int64_t>(d));
      return v.dump();
    }
    case json::value_t::array: {
      std::string s = "[";
      for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + go_print(v[i]);
      return s + "]";
    }
    case json::value_t::object: {
      std::string s = "map[";
      bool first = true;
      for (const auto& [k, x] : v.items()) {  // nlohmann keeps keys sorted, as Go prints maps
        s += (first ? "" : " ") + k + ":" + go_print(x);
        first = false;
      }
      return s + "]";
    }
    default: return v.dump();
  }
}

bool truthy(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return false;
    case json::value_t::boolean: return v.get<bool>();
    case json::value_t::string: return !v.get<std::string>().empty();
    case json::value_t::array:
    case json::value_t::object: return !v.empty();
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return v.get<int64_t>() != 0;
    case json::value_t::number_float: return v.get<double>() != 0;
    default: return true;
  }
}

}  // namespace

struct Template::Node {
  enum Kind { kText, kAction, kRange, kIf } kind = kText;
  std::string text;
  Pipeline pipe;
  std::vector<std::unique_ptr<Node>> body, else_body;
};

namespace {

using NodeList = std::vector<std::unique_ptr<Template::Node>>;

Result<Arg> parse_arg(std::string_view t) {
  Arg a;
  if (t == ".") return a;
  if (t.size() >= 2 && t.front() == '"' && t.back() == '"') {
    a.kind = Arg::kString;
    for (size_t i = 1; i + 1 < t.size(); ++i) {
      if (t[i] == '\\' && i + 2 < t.size()) {
        char c = t[++i];
        a.text += c == 't' ? '\t' : c == 'n' ? '\n' : c;
      } else {
        a.text += t[i];
      }
    }
    return a;
  }
  if (t.front() == '.') {
    a.kind = Arg::kField;
    size_t start = 1;
    while (start <= t.size()) {
      size_t dot = t.find('.', start);
      std::string part(t.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
      if (part.empty()) return template_error("bad field \"" + std::string(t) + "\"");
      a.path.push_back(part);
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    return a;
  }
  return template_error("function \"" + std::string(t) + "\" not defined");
}

// Splits an action's words, keeping quoted strings whole.
std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    if (std::isspace(static_cast<unsigned char>(s[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    if (s[i] == '"') {
      for (++j; j < s.size() && s[j] != '"'; ++j)
        if (s[j] == '\\') ++j;
      ++j;
    } else {
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    }
    out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

const char* const kFuncs[] = {"json", "index", "join", "len", "upper", "lower", "println", "title"};

Result<Pipeline> parse_pipeline(const std::vector<std::string>& w, size_t from) {
  Pipeline p;
  if (from >= w.size()) return template_error("missing value for command");
  size_t i = from;
  if (std::find(std::begin(kFuncs), std::end(kFuncs), w[i]) != std::end(kFuncs)) p.func = w[i++];
  for (; i < w.size(); ++i) p.args.push_back(GUISE_TRY(parse_arg(w[i])));
  if (p.func.empty() && p.args.size() != 1) return template_error("can't give argument to non-function " + w[from]);
  return p;
}

struct Parser {
  std::string_view text;
  size_t pos = 0;

  // Parses until {{end}} / {{else}} (returned in `stop`) or the end of the text.
  Result<NodeList> parse_list(std::string& stop) {
    NodeList nodes;
    while (pos < text.size()) {
      size_t open = text.find("{{", pos);
      std::string literal(text.substr(pos, open == std::string_view::npos ? std::string_view::npos : open - pos));
      if (open == std::string_view::npos) {
        pos = text.size();
      } else {
        pos = open + 2;
      }
      bool trim_left = pos < text.size() && open != std::string_view::npos && text.substr(pos).starts_with("- ");
      if (trim_left) {
        while (!literal.empty() && std::isspace(static_cast<unsigned char>(literal.back()))) literal.pop_back();
        pos += 1;
      }
      if (!literal.empty()) {
        auto n = std::make_unique<Template::Node>();
        n->text = literal;
        nodes.push_back(std::move(n));
      }
      if (open == std::string_view::npos) break;
      size_t close = text.find("}}", pos);
      if (close == std::string_view::npos) return template_error("unclosed action");
      std::string_view inner = text.substr(pos, close - pos);
      pos = close + 2;
      if (inner.ends_with(" -")) {
        inner.remove_suffix(2);
        while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
      }
      auto w = words(inner);
      if (w.empty()) return template_error("missing value for command");
      if (w[0] == "end" || w[0] == "else") {
        stop = w[0];
        return nodes;
      }
      auto n = std::make_unique<Template::Node>();
      if (w[0] == "range" || w[0] == "if") {
        n->kind = w[0] == "range" ? Template::Node::kRange : Template::Node::kIf;
        n->pipe = GUISE_TRY(parse_pipeline(w, 1));
        std::string inner_stop;
        n->body = GUISE_TRY(parse_list(inner_stop));
        if (inner_stop == "else") {
          n->else_body = GUISE_TRY(parse_list(inner_stop));
        }
        if (inner_stop != "end") return template_error("unexpected EOF: " + w[0] + " without {{end}}");
      } else {
        n->kind = Template::Node::kAction;
        n->pipe = GUISE_TRY(parse_pipeline(w, 0));
      }
      nodes.push_back(std::move(n));
    }
    stop.clear();
    return nodes;
  }
};

Result<json> eval_arg(const Arg& a, const json& dot) {
  if (a.kind == Arg::kDot) return dot;
  if (a.kind == Arg::kString) return json(a.text);
  const json* cur = &dot;
  for (const auto& p : a.path) {
    if (!cur->is_object()) return template_error("can't evaluate field " + p + " in a non-object value");
    auto it = cur->find(p);
    if (it == cur->end()) return json("<no value>");
    cur = &*it;
  }
  return *cur;
}

Result<std::string> eval(const Pipeline& p, const json& dot) {
  std::vector<json> args;
  for (const auto& a : p.args) args.push_back(GUISE_TRY(eval_arg(a, dot)));
  if (p.func.empty()) return go_print(args[0]);
  auto need = [&](size_t n) -> Result<void> {
    if (args.size() != n)
      return template_error("wrong number of args for " + p.func + ": want " + std::to_string(n) + " got " +
                            std::to_string(args.size()));
    return Ok();
  };
  if (p.func == "json") {
    GUISE_TRY(need(1));
    return args[0].dump(-1, ' ', false, json::error_handler_t::replace);
  }
  if (p.func == "println") {
    std::string s;
    for (size_t i = 0; i < args.size(); ++i) s += (i ? " " : "") + go_print(args[i]);
    return s + "\n";
  }
  if (p.func == "len") {
    GUISE_TRY(need(1));
    if (args[0].is_string()) return std::to_string(args[0].get<std::string>().size());
    if (args[0].is_array() || args[0].is_object()) return std::to_string(args[0].size());
    return template_error("len of a value that has no length");
  }
  if (p.func == "upper" || p.func == "lower" || p.func == "title") {
    GUISE_TRY(need(1));
    std::string s = go_print(args[0]);
    bool start = true;
    for (char& c : s) {
      if (p.func == "upper" || (p.func == "title" && start))
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      else if (p.func == "lower")
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      start = std::isspace(static_cast<unsigned char>(c));
    }
    return s;
  }
  if (p.func == "join") {
    GUISE_TRY(need(2));
    if (!args[0].is_array()) return go_print(args[0]);
    std::string s, sep = go_print(args[1]);
    for (size_t i = 0; i < args[0].size(); ++i) s += (i ? sep : "") + go_print(args[0][i]);
    return s;
  }
  // index
  if (args.size() < 2) return template_error("wrong number of args for index");
  json cur = args[0];
  for (size_t i = 1; i < args.size(); ++i) {
    if (cur.is_object() && args[i].is_string()) {
      auto it = cur.find(args[i].get<std::string>());
      cur = it == cur.end() ? json("<no value>") : *it;
    } else if (cur.is_array() && args[i].is_string()) {
      size_t n = std::stoul(args[i].get<std::string>());
      if (n >= cur.size()) return template_error("index out of range: " + std::to_string(n));
      cur = cur[n];
    } else {
      return template_error("can't index item of this type");
    }
  }
  return go_print(cur);
}

Result<void> run(const NodeList& nodes, const json& dot, std::string& out);

Result<void> run_node(const Template::Node& n, const json& dot, std::string& out) {
  switch (n.kind) {
    case Template::Node::kText: out += n.text; return Ok();
    case Template::Node::kAction: out += GUISE_TRY(eval(n.pipe, dot)); return Ok();
    case Template::Node::kIf: {
      json v = n.pipe.func.empty() ? GUISE_TRY(eval_arg(n.pipe.args[0], dot)) : json(GUISE_TRY(eval(n.pipe, dot)));
      if (v.is_string() && v.get<std::string>() == "<no value>") v = nullptr;
      return run(truthy(v) ? n.body : n.else_body, dot, out);
    }
    case Template::Node::kRange: {
      json v = GUISE_TRY(eval_arg(n.pipe.args.empty() ? Arg{} : n.pipe.args[0], dot));
      if (!truthy(v) || !(v.is_array() || v.is_object())) return run(n.else_body, dot, out);
      for (const auto& item : v) GUISE_TRY(run(n.body, item, out));
      return Ok();
    }
  }
  return Ok();
}

Result<void> run(const NodeList& nodes, const json& dot, std::string& out) {
  for (const auto& n : nodes) GUISE_TRY(run_node(*n, dot, out));
  return Ok();
}

}  // namespace

Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;
Template::~Template() = default;

Result<Template> Template::parse(std::string_view text) {
  Template t;
  if (text.starts_with("table")) {
    t.table_ = true;
    text.remove_prefix(5);
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  }
  // docker turns the two-character escapes people type in a shell into the characters.
  std::string unescaped;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == 't' || text[i + 1] == 'n')) {
      unescaped += text[i + 1] == 't' ? '\t' : '\n';
      ++i;
    } else {
      unescaped += text[i];
    }
  }
  Parser p{unescaped};
  std::string stop;
  t.nodes_ = GUISE_TRY(p.parse_list(stop));
  if (!stop.empty()) return template_error("unexpected {{" + stop + "}}");
  return t;
}

Result<std::string> Template::render(const json& data) const {
  std::string out;
  GUISE_TRY(run(nodes_, data, out));
  return out;
}

std::string Template::header(const std::vector<std::pair<std::string, std::string>>& headers) const {
  std::string out;
  for (const auto& n : nodes_) {
    if (n->kind == Node::kText) {
      out += n->text;
      continue;
    }
    if (n->kind != Node::kAction || n->pipe.args.empty() || n->pipe.args[0].kind != Arg::kField) continue;
    std::string field = n->pipe.args[0].path.back();
    std::string title;
    for (const auto& [f, t] : headers)
      if (f == field) title = t;
    if (title.empty())
      for (char c : field) title += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out += title;
  }
  return out;
}

namespace {
// Columns are counted in characters, not bytes: "…" is one wide.
size_t display_width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}
}  // namespace

std::string align_columns(const std::vector<std::string>& lines) {
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> width;
  for (const auto& l : lines) {
    std::vector<std::string> row;
    size_t start = 0;
    for (;;) {
      size_t tab = l.find('\t', start);
      row.push_back(l.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    for (size_t i = 0; i + 1 < row.size(); ++i) {
      if (width.size() <= i) width.resize(i + 1, 0);
      width[i] = std::max(width[i], display_width(row[i]));
    }
    cells.push_back(std::move(row));
  }
  std::string out;
  for (const auto& row : cells) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out.append(std::max<size_t>(width[i] + 3, 10) - display_width(row[i]), ' ');
    }
    out += '\n';
  }
  return out;
}

Result<std::string> format_rows(const std::string& format, const std::string& default_table,
                                const std::vector<json>& rows,
                                const std::vector<std::pair<std::string, std::string>>& headers) {
  if (format == "json") {
    std::string out;
    for (const auto& r : rows) out += r.dump() + "\n";
    return out;
  }
  Template t = GUISE_TRY(Template::parse(format.empty() ? default_table : format), "--format");
  std::vector<std::string> lines;
  if (t.is_table()) lines.push_back(t.header(headers));
  for (const auto& r : rows) {
    std::string line = GUISE_TRY(t.render(r), "--format");
    lines.push_back(line);
  }
  if (t.is_table()) return align_columns(lines);
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace guise::cli
