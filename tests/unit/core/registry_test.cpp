// Registry: duplicate detection, URI templates, pack HTTP routes.
#include <gtest/gtest.h>

#include "core/registry.hpp"

using namespace mcpd::core;

TEST(Registry, RefusesDuplicatesAndHandlerlessTools) {
  Registry r;
  Tool t;
  t.name = "a";
  EXPECT_THROW(r.add_tool(t), std::invalid_argument);  // no handler
  t.handler = [](CallContext&, const boost::json::object&) -> ToolOutcome { return ToolResult::text(""); };
  r.add_tool(t);
  EXPECT_THROW(r.add_tool(t), std::invalid_argument);
  EXPECT_NE(r.find_tool("a"), nullptr);
  EXPECT_EQ(r.find_tool("b"), nullptr);
}

TEST(Registry, MatchesLevelOneUriTemplates) {
  std::map<std::string, std::string> vars;
  EXPECT_TRUE(match_uri_template("docs://{source}/{id}", "docs://git/42", vars));
  EXPECT_EQ(vars["source"], "git");
  EXPECT_EQ(vars["id"], "42");
  EXPECT_FALSE(match_uri_template("docs://{source}/{id}", "docs://git/42/extra", vars));
  EXPECT_FALSE(match_uri_template("docs://{source}/{id}", "docs:///42", vars));
  EXPECT_FALSE(match_uri_template("x://{a}", "y://b", vars));
}

TEST(Registry, HttpRoutesByMethodAndPath) {
  Registry r;
  HttpRoute route;
  route.method = "POST";
  route.path = "/things";
  route.handler = [](const HttpRequest&) { return HttpReply::json(200, boost::json::object{}); };
  r.add_http_route(route);
  EXPECT_THROW(r.add_http_route(route), std::invalid_argument);
  bool known = false;
  EXPECT_NE(r.find_http_route("POST", "/things", known), nullptr);
  EXPECT_TRUE(known);
  EXPECT_EQ(r.find_http_route("GET", "/things", known), nullptr);
  EXPECT_TRUE(known);  // the path exists: a 405, not a 404
  EXPECT_EQ(r.find_http_route("GET", "/other", known), nullptr);
  EXPECT_FALSE(known);
}
