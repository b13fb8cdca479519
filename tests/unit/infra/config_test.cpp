// Configuration: layering (file < env < flags is tested end-to-end), validation messages name the key.
#include <gtest/gtest.h>

#include <map>

#include "infra/config.hpp"

using namespace mcpd::infra;

namespace {
auto env_from(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}
bool mentions(const std::vector<ConfigError>& errors, const std::string& key) {
  for (auto& e : errors)
    if (e.key == key) return true;
  return false;
}
}  // namespace

TEST(Config, ParsesListenAddresses) {
  std::string err;
  auto a = parse_listen_address("0.0.0.0:8080", err);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "0.0.0.0");
  EXPECT_EQ(a->port, 8080);
  EXPECT_FALSE(a->is_loopback());
  auto v6 = parse_listen_address("[::1]:9", err);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_TRUE(v6->is_loopback());
  EXPECT_FALSE(parse_listen_address("localhost", err));
  EXPECT_FALSE(parse_listen_address("h:99999", err));
  EXPECT_NE(err.find("65535"), std::string::npos);
}

TEST(Config, TomlFileSetsValuesAndRecordsTheirOrigin) {
  Config c;
  auto errors = apply_toml_text(c, R"(
[server]
http = "127.0.0.1:9000"
threads = 2
log_level = "debug"
[security]
api_keys = ["0123456789abcdef"]
[packs]
enabled = ["conformance"]
[packs.conformance]
greeting = "hi"
)", "test.toml");
  EXPECT_TRUE(errors.empty()) << errors[0].to_string();
  EXPECT_EQ(c.http->port, 9000);
  EXPECT_EQ(c.threads, 2);
  EXPECT_EQ(c.api_keys.size(), 1u);
  EXPECT_EQ(c.enabled_packs, std::vector<std::string>{"conformance"});
  EXPECT_EQ(c.pack_settings["conformance"].at("greeting").as_string(), "hi");
  EXPECT_EQ(c.origin["server.threads"], "file");
}

TEST(Config, BadFileNamesTheKeyAndTheProblem) {
  Config c;
  auto errors = apply_toml_text(c, "[server]\nthreads = \"two\"\nhttp = \"nowhere\"\ntypo_key = 1\n", "bad.toml");
  EXPECT_TRUE(mentions(errors, "server.threads"));
  EXPECT_TRUE(mentions(errors, "server.http"));
  EXPECT_TRUE(mentions(errors, "server.typo_key"));
  EXPECT_EQ(c.threads, 1);  // nothing half-applied from a bad value
  auto syntax = apply_toml_text(c, "[server\n", "broken.toml");
  ASSERT_EQ(syntax.size(), 1u);
  EXPECT_NE(syntax[0].key.find("broken.toml:1"), std::string::npos);
}

TEST(Config, EnvironmentUsesTheSeedsNames) {
  Config c;
  auto errors = apply_environment(c, env_from({{"MCP_HOST", "0.0.0.0"}, {"MCP_PORT", "8080"}, {"MCP_STATUS_PORT", "8081"},
                                               {"MCP_LOG_LEVEL", "INFO"}, {"API_TOKEN", "key-one-123456,key-two-123456"}}));
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(c.http->to_string(), "0.0.0.0:8080");
  EXPECT_EQ(c.status->to_string(), "0.0.0.0:8081");
  EXPECT_EQ(c.api_keys.size(), 2u);
  EXPECT_EQ(c.origin["server.http"], "env");
  EXPECT_TRUE(validate(c).empty());
  auto bad = apply_environment(c, env_from({{"MCP_PORT", "eighty"}}));
  EXPECT_TRUE(mentions(bad, "MCP_PORT"));
}

TEST(Config, ListeningBeyondLoopbackRequiresAnApiKey) {
  Config c;
  c.http = ListenAddress{"0.0.0.0", 8000};
  EXPECT_TRUE(mentions(validate(c), "security.api_keys"));
  c.api_keys = {"short"};
  EXPECT_TRUE(mentions(validate(c), "security.api_keys"));
  c.api_keys = {"long-enough-key"};
  EXPECT_TRUE(validate(c).empty());
  c.api_keys.clear();
  c.allow_unauthenticated_remote = true;
  EXPECT_TRUE(validate(c).empty());
  c.log_level = "chatty";
  EXPECT_TRUE(mentions(validate(c), "server.log_level"));
}

TEST(Config, DescribeMasksSecrets) {
  Config c;
  c.api_keys = {"supersecretvalue-0123456789"};
  c.pack_settings["sql"] = boost::json::object{{"password", "hunter2"}, {"url", "postgres://u:pw@host/db"}};
  std::string text = boost::json::serialize(describe(c));
  EXPECT_EQ(text.find("supersecretvalue-0123456789"), std::string::npos);
  EXPECT_EQ(text.find("hunter2"), std::string::npos);
  EXPECT_EQ(text.find(":pw@"), std::string::npos);
}

TEST(Config, AuditSettingsAreCheckedAndNamed) {
  Config c;
  EXPECT_EQ(c.audit_max_bytes, 256u << 20);
  auto ok = apply_toml_text(c, "[audit]\nretention_days = 30\nmax_bytes = 67108864\n", "audit.toml");
  EXPECT_TRUE(ok.empty()) << ok[0].to_string();
  EXPECT_EQ(c.audit_retention_days, 30);
  EXPECT_EQ(c.audit_max_bytes, 64u << 20);
  EXPECT_EQ(c.origin["audit.max_bytes"], "file");
  EXPECT_EQ(describe(c).at("audit").at("max_bytes").at("value").to_number<std::uint64_t>(), 64u << 20);
  // Too small, too large, the wrong type, a mistyped key: each named, and nothing applied.
  Config d;
  EXPECT_TRUE(mentions(apply_toml_text(d, "[audit]\nmax_bytes = 1000\n", "a.toml"), "audit.max_bytes"));
  EXPECT_TRUE(mentions(apply_toml_text(d, "[audit]\nmax_bytes = 2199023255552\n", "a.toml"), "audit.max_bytes"));
  EXPECT_TRUE(mentions(apply_toml_text(d, "[audit]\nmax_bytes = \"256MiB\"\n", "a.toml"), "audit.max_bytes"));
  EXPECT_TRUE(mentions(apply_toml_text(d, "[audit]\nretention_days = 0\n", "a.toml"), "audit.retention_days"));
  EXPECT_TRUE(mentions(apply_toml_text(d, "[audit]\nmax_byte = 5000000\n", "a.toml"), "audit.max_byte"));
  EXPECT_EQ(d.audit_max_bytes, 256u << 20);
  EXPECT_EQ(d.audit_retention_days, 90);
}
