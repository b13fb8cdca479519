// Runs every tests/transcripts/conformance/*.transcript through the real stdio transport and dispatcher
// with the conformance pack, in-process (the other packs' transcripts run against the real binary:
// tests/transcripts/run.mjs). A transcript is behaviour written down as data:
//   > a line the client sends (sent verbatim, so malformed JSON can be tested)
//   < a message the server must send next; objects match as subsets, "<any>" matches any value
//   # a comment
// Every server message must be expected, in order; nothing may be left over.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/dispatcher.hpp"
#include "infra/worker_pool.hpp"
#include "packs/conformance/conformance_pack.hpp"
#include "transport/stdio_server.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace mcpd;

namespace {

// Empty when `actual` contains `expected`; else where they differ.
std::string mismatch(const json::value& expected, const json::value& actual, const std::string& path = "") {
  if (expected.is_string() && expected.get_string() == "<any>") return {};
  if (expected.is_object()) {
    if (!actual.is_object()) return path + ": expected an object";
    for (const auto& [k, v] : expected.get_object()) {
      auto it = actual.get_object().find(k);
      if (it == actual.get_object().end()) return path + "/" + std::string(k) + ": missing";
      if (auto m = mismatch(v, it->value(), path + "/" + std::string(k)); !m.empty()) return m;
    }
    return {};
  }
  if (expected.is_array()) {
    if (!actual.is_array() || actual.get_array().size() != expected.get_array().size())
      return path + ": expected an array of " + std::to_string(expected.get_array().size()) + " items";
    for (std::size_t i = 0; i < expected.get_array().size(); ++i)
      if (auto m = mismatch(expected.get_array()[i], actual.get_array()[i], path + "/" + std::to_string(i)); !m.empty()) return m;
    return {};
  }
  if (expected.is_number() && actual.is_number()) {
    return json::value_to<double>(expected) == json::value_to<double>(actual) ? "" : path + ": different number";
  }
  return expected == actual ? "" : path + ": expected " + json::serialize(expected) + ", got " + json::serialize(actual);
}

std::vector<std::string> transcript_files() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(MCPD_TRANSCRIPTS_DIR))
    if (e.path().extension() == ".transcript") out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

class Transcript : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(Transcript, Replays) {
  std::ifstream file(std::string(MCPD_TRANSCRIPTS_DIR) + "/" + GetParam() + ".transcript");
  ASSERT_TRUE(file) << "cannot open transcript";
  std::string input;
  std::vector<std::pair<int, json::value>> expected;
  std::string line;
  for (int number = 1; std::getline(file, line); ++number) {
    if (line.rfind("> ", 0) == 0) input += line.substr(2) + "\n";
    else if (line.rfind("< ", 0) == 0) expected.emplace_back(number, json::parse(line.substr(2)));
    else ASSERT_TRUE(line.empty() || line[0] == '#') << "line " << number << ": starts with neither '>', '<' nor '#'";
  }

  auto dir = fs::temp_directory_path() / ("mcpd-transcript-" + std::to_string(::getpid()) + "-" + GetParam());
  fs::create_directories(dir);
  { std::ofstream(dir / "in") << input; }
  int in_fd = ::open((dir / "in").c_str(), O_RDONLY);
  int out_fd = ::open((dir / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(in_fd, 0);
  ASSERT_GE(out_fd, 0);
  {
    core::Registry registry;
    core::SessionManager sessions(8, std::chrono::seconds(60), [] { return std::string("transcript"); });
    static const json::object kNoSettings;
    core::PackContext ctx{registry, sessions, kNoSettings};
    packs::conformance::make_pack()->register_into(ctx);
    infra::WorkerPool pool(2, 64);
    core::Dispatcher dispatcher(registry, core::ServerInfo{"mcpd", "mcpd", "test", ""}, &pool, nullptr, 4);
    transport::StdioServer server(dispatcher, sessions, 4096, in_fd, out_fd);
    server.run(std::chrono::seconds(5));
    pool.join();
  }
  ::close(in_fd);
  ::close(out_fd);

  std::ifstream out(dir / "out");
  std::vector<json::value> actual;
  while (std::getline(out, line)) actual.push_back(json::parse(line));
  fs::remove_all(dir);

  for (std::size_t i = 0; i < expected.size(); ++i) {
    ASSERT_LT(i, actual.size()) << "line " << expected[i].first << ": the server sent nothing more; expected "
                                << json::serialize(expected[i].second);
    auto m = mismatch(expected[i].second, actual[i]);
    EXPECT_TRUE(m.empty()) << "line " << expected[i].first << ": " << m << "\n  expected: "
                           << json::serialize(expected[i].second) << "\n  actual:   " << json::serialize(actual[i]);
  }
  EXPECT_EQ(actual.size(), expected.size()) << "the server sent messages the transcript does not expect; last: "
                                            << (actual.empty() ? "" : json::serialize(actual.back()));
}

INSTANTIATE_TEST_SUITE_P(Transcripts, Transcript, ::testing::ValuesIn(transcript_files()),
                         [](const auto& info) { return info.param; });
