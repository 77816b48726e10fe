// docker's --format templates, tables, sizes and ages, as docker prints them.
#include <gtest/gtest.h>

#include "cli/guise/human.h"
#include "cli/guise/template.h"

namespace guise::cli {
namespace {

using nlohmann::json;

std::string render(const std::string& t, const json& data) {
  auto tpl = Template::parse(t);
  EXPECT_TRUE(tpl.ok()) << tpl.error().message();
  if (!tpl) return "";
  auto r = tpl->render(data);
  EXPECT_TRUE(r.ok()) << r.error().message();
  return r ? *r : "";
}

TEST(CliTemplate, FieldsFunctionsAndControl) {
  json d = {{"Id", "sha256:abc"},
            {"Config", {{"Env", {"A=1", "B=2"}}, {"Labels", {{"x.y", "z"}}}, {"Cmd", nullptr}}},
            {"Size", 4261},
            {"RepoTags", json::array()}};
  EXPECT_EQ(render("{{.Id}}", d), "sha256:abc");
  EXPECT_EQ(render("{{.Config.Env}}", d), "[A=1 B=2]");
  EXPECT_EQ(render("{{json .Config.Env}}", d), R"(["A=1","B=2"])");
  EXPECT_EQ(render("{{index .Config.Labels \"x.y\"}}", d), "z");
  EXPECT_EQ(render("{{join .Config.Env \",\"}}", d), "A=1,B=2");
  EXPECT_EQ(render("{{range .Config.Env}}<{{.}}>{{end}}", d), "<A=1><B=2>");
  EXPECT_EQ(render("{{if .RepoTags}}tagged{{else}}dangling{{end}}", d), "dangling");
  EXPECT_EQ(render("{{.Size}} {{len .Config.Env}} {{upper .Id}}", d), "4261 2 SHA256:ABC");
  EXPECT_EQ(render("{{.Config.Cmd}}", d), "<nil>");
  EXPECT_EQ(render("{{.Nope}}", d), "<no value>");
  EXPECT_EQ(render("a\\tb", d), "a\tb");
}

TEST(CliTemplate, ErrorsNameTheProblem) {
  auto t = Template::parse("{{.Id");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message().find("unclosed action"), std::string::npos);
  auto u = Template::parse("{{bogus .Id}}");
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.error().message().find("function \"bogus\" not defined"), std::string::npos);
  EXPECT_FALSE(Template::parse("{{range .X}}").ok());
}

TEST(CliTemplate, TablesAlignAsDockersTabwriter) {
  auto out = format_rows("", "table {{.Repository}}\t{{.Tag}}\t{{.ID}}",
                         {json{{"Repository", "busybox"}, {"Tag", "latest"}, {"ID", "a416a98b71e2"}}},
                         {{"ID", "IMAGE ID"}});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out,
            "REPOSITORY   TAG       IMAGE ID\n"
            "busybox      latest    a416a98b71e2\n");
  auto js = format_rows("json", "", {json{{"A", 1}}}, {});
  EXPECT_EQ(*js, "{\"A\":1}\n");
}

TEST(CliHuman, SizesAndAgesAsDocker) {
  EXPECT_EQ(human_size(916), "916B");
  EXPECT_EQ(human_size(4261000), "4.26MB");
  EXPECT_EQ(human_size(1240), "1.24kB");
  EXPECT_EQ(human_duration(0), "Less than a second");
  EXPECT_EQ(human_duration(90), "About a minute");
  EXPECT_EQ(human_duration(3 * 3600), "3 hours");
  EXPECT_EQ(human_duration(10 * 86400), "10 days");
  EXPECT_EQ(human_duration(20 * 86400), "2 weeks");
  EXPECT_EQ(human_duration(100 * 86400), "3 months");
  EXPECT_EQ(*parse_rfc3339("2024-01-01T01:00:00.5+01:00"), *parse_rfc3339("2024-01-01T00:00:00Z"));
  EXPECT_EQ(since("garbage"), "N/A");
}

}  // namespace
}  // namespace guise::cli
