// The one key policy on every store and in every layer: a table of hostile keys (dot segments,
// empty segments, backslashes, control characters, URL escapes, overlong UTF-8, Unicode that
// normalises into separators) refused by the allow-lists with and without lists, by the local store
// and by the S3 store before anything is sent or signed; and a table of legitimate keys accepted
// and sent on the wire exactly as SigV4 canonicalises them.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "../knowledge/temp_dir.hpp"
#include "packs/storage/access_policy.hpp"
#include "packs/storage/local_store.hpp"
#include "packs/storage/object_key.hpp"
#include "packs/storage/s3_store.hpp"
#include "packs/storage/sigv4.hpp"
#include "scripted_server.hpp"

using namespace mcpd::packs::storage;
using mcpd::core::ErrorKind;
namespace fs = std::filesystem;
using mcpd::test::ScriptedServer;
using mcpd::test::TempDir;

namespace {

const std::vector<std::string>& hostile_keys() {
  static const std::vector<std::string> keys = {
      // dot segments at the start, in the middle, at the end, alone
      "../b/secret.txt", "docs/../../b/secret.txt", "./../b/secret.txt", "a/../b", "a/..", "..", ".", "./a", "a/./b",
      "a/.", "a/./", "../", "...", "docs/.../x", ".. /b", " ../b", "..;/b/secret.txt", "a/.;x/b",
      // backslashes
      "..\\b\\secret.txt", "a\\..\\b", "docs\\secret.txt",
      // empty segments
      "//b/secret.txt", "/abs", "/b/secret.txt", "a//b", "docs//../b",
      // URL escapes: dots, slashes, backslashes, NUL, overlong UTF-8, IIS's %u, double encoding
      "%2e%2e/b/secret.txt", "%2E%2e%2Fb", "%2e%2e%2fb%2fsecret.txt", ".%2e/b", "%2e./b", "..%2fb", "..%5cb",
      "a%00b", "%c0%ae%c0%ae/b", "%C0%AE./b", "%u002e%u002e/b", "%252e%252e/b", "a%20b",
      // control characters and NUL
      std::string("a\0b", 3), "a\tb", "a\nb", "a\rb", "\x7f", "a/\x01/b",
      // overlong and otherwise invalid UTF-8 (C0 AE is an overlong '.', C0 AF an overlong '/')
      "\xC0\xAE\xC0\xAE/b", "a\xC0\xAF" "b", "\xE0\x80\xAE./b", "bad\xff",
      // Unicode that reads as "..", "/" or "\" once normalised (NFKC)
      "\xEF\xBC\x8E\xEF\xBC\x8E\xEF\xBC\x8F" "b",  // ．．／b (fullwidth)
      "\xE2\x80\xA5/b",                           // ‥/b (two dot leader)
      "a\xEF\xBC\xBC" "b",                        // a＼b (fullwidth reverse solidus)
      "..\xEF\xBC\x9B/b",                         // ..；/b (fullwidth semicolon)
      // too long for S3
      std::string(1025, 'k'),
  };
  return keys;
}

// Legitimate keys and the path S3 must receive for them in bucket "bucket": RFC 3986's unreserved
// characters kept, '/' kept, every other byte %XX in upper case.
const std::vector<std::pair<std::string, std::string>>& legitimate_keys() {
  static const std::vector<std::pair<std::string, std::string>> keys = {
      {"a.b", "/bucket/a.b"},
      {"..foo", "/bucket/..foo"},
      {"foo..", "/bucket/foo.."},
      {".hidden", "/bucket/.hidden"},
      {".well-known/x", "/bucket/.well-known/x"},
      {"a/v1.2..3/file.txt", "/bucket/a/v1.2..3/file.txt"},
      {"my file (1).txt", "/bucket/my%20file%20%281%29.txt"},
      {"a+b=c~d_e-f", "/bucket/a%2Bb%3Dc~d_e-f"},
      {"!'()*$&,:;@", "/bucket/%21%27%28%29%2A%24%26%2C%3A%3B%40"},
      {"100%.txt", "/bucket/100%25.txt"},
      {"50% off/x", "/bucket/50%25%20off/x"},
      {"\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E/\xE3\x83\x95\xE3\x82\xA1\xE3\x82\xA4\xE3\x83\xAB.txt",  // 日本語/ファイル.txt
       "/bucket/%E6%97%A5%E6%9C%AC%E8%AA%9E/%E3%83%95%E3%82%A1%E3%82%A4%E3%83%AB.txt"},
      {"Notes\xE2\x80\xA6txt", "/bucket/Notes%E2%80%A6txt"},       // Notes…txt: dots inside a name
      {"\xE2\x92\x88 intro.txt", "/bucket/%E2%92%88%20intro.txt"},  // ⒈ intro.txt
  };
  return keys;
}

std::string printable(const std::string& key) {
  std::string out;
  for (unsigned char c : key) {
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", c);
      out += hex;
    }
  }
  return out;
}

S3StoreOptions s3_options(const ScriptedServer& server) {
  S3StoreOptions o;
  o.name = "test";
  o.client.endpoint = server.endpoint();
  o.client.credentials = {"AKID", "secret", ""};
  o.client.timeout_ms = 5000;
  o.retries = 1;
  return o;
}

TEST(ObjectKey, HostileKeysAreRefusedWhateverTheAllowLists) {
  const AccessPolicy open("s", {}, {});
  const AccessPolicy buckets_only("s", {"a"}, {});
  const AccessPolicy everything_under_empty_prefix("s", {"a"}, {""});
  for (const auto& key : hostile_keys()) {
    const std::string problem = object_key_problem(key);
    EXPECT_NE(problem, "") << printable(key);
    EXPECT_EQ(problem.find('\n'), std::string::npos) << problem;  // one sentence, one line
    EXPECT_NE(problem.find("; "), std::string::npos) << "no advice in: " << problem;
    for (const AccessPolicy* policy : {&open, &buckets_only, &everything_under_empty_prefix}) {
      auto checked = policy->check_key(key);
      ASSERT_FALSE(checked) << printable(key);
      EXPECT_EQ(checked.error().kind, ErrorKind::InvalidArgument) << printable(key);
      EXPECT_EQ(checked.error().message, problem);
    }
    // As a list prefix too: listing must not name paths a server could resolve elsewhere.
    EXPECT_NE(list_prefix_problem(key), "") << printable(key);
    EXPECT_FALSE(open.check_list_prefix(key)) << printable(key);
  }
}

TEST(ObjectKey, MessagesSayWhatIsWrong) {
  EXPECT_NE(object_key_problem("../b/secret.txt").find("\"..\" segment"), std::string::npos);
  EXPECT_NE(object_key_problem("a\\b").find("backslash"), std::string::npos);
  EXPECT_NE(object_key_problem("a//b").find("empty segment"), std::string::npos);
  EXPECT_NE(object_key_problem("/abs").find("starts with '/'"), std::string::npos);
  EXPECT_NE(object_key_problem("%2e%2e/b").find("URL escape \"%2e\""), std::string::npos);
  EXPECT_NE(object_key_problem(std::string("a\0b", 3)).find("control character 0x00"), std::string::npos);
  EXPECT_NE(object_key_problem("\xC0\xAE").find("UTF-8"), std::string::npos);
  EXPECT_NE(object_key_problem("\xEF\xBC\x8E\xEF\xBC\x8E/b").find("Unicode normalisation it reads \"../b\""),
            std::string::npos);
  EXPECT_EQ(object_key_problem(""), "the object key is empty; give the key of the object");
  EXPECT_EQ(list_prefix_problem(""), "");  // an empty prefix lists the whole bucket
}

TEST(ObjectKey, LegitimateKeysAreAccepted) {
  const AccessPolicy open("s", {}, {});
  for (const auto& [key, path] : legitimate_keys()) {
    EXPECT_EQ(object_key_problem(key), "") << key;
    EXPECT_TRUE(open.check_key(key)) << key;
    EXPECT_EQ(list_prefix_problem(key), "") << key;
  }
  EXPECT_EQ(object_key_problem("folder/"), "");  // S3's folder markers
  EXPECT_EQ(list_prefix_problem("docs/"), "");
  EXPECT_EQ(object_key_problem(std::string(1024, 'k')), "");
}

TEST(ObjectKey, BucketNamesAreOneSegment) {
  for (const std::string bucket : {"a", "mcpd-test", "My_Bucket.v2"}) EXPECT_EQ(bucket_name_problem(bucket), "") << bucket;
  for (const std::string bucket : {"", ".", "..", "a/b", "-a", "a-", "%2e%2e", "a\\b", "a b"})
    EXPECT_NE(bucket_name_problem(bucket), "") << bucket;
  const AccessPolicy open("s", {}, {});
  auto checked = open.check_bucket("..");
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().kind, ErrorKind::InvalidArgument);
  EXPECT_TRUE(open.check_bucket("My_Bucket.v2"));
}

TEST(ObjectKey, TheLocalStoreRefusesEveryHostileKeyAndWritesNothing) {
  TempDir dir;
  const fs::path root = dir.path() / "root";
  LocalStore store(LocalStoreOptions{root.string(), 1000});
  store.ensure_bucket("a");
  store.ensure_bucket("b");
  mcpd::test::write_file(root / "b" / "secret.txt", "top secret");
  for (const auto& key : hostile_keys()) {
    auto got = store.get("a", key, "");
    ASSERT_FALSE(got) << printable(key);
    EXPECT_EQ(got.error().kind, ErrorKind::InvalidArgument) << printable(key);
    auto head = store.head("a", key);
    ASSERT_FALSE(head) << printable(key);
    EXPECT_EQ(head.error().kind, ErrorKind::InvalidArgument) << printable(key);
    auto put = store.put("a", key, "pwned", "");
    ASSERT_FALSE(put) << printable(key);
    EXPECT_EQ(put.error().kind, ErrorKind::InvalidArgument) << printable(key);
    auto removed = store.remove("a", key);
    ASSERT_FALSE(removed) << printable(key);
    EXPECT_EQ(removed.error().kind, ErrorKind::InvalidArgument) << printable(key);
    auto presigned = store.presign_get("a", key, 60);
    EXPECT_FALSE(presigned) << printable(key);
    auto listed = store.list(ListRequest{"a", key, "", 10, ""});
    ASSERT_FALSE(listed) << printable(key);
    EXPECT_EQ(listed.error().kind, ErrorKind::InvalidArgument) << printable(key);
  }
  std::set<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir.path()))
    if (e.is_regular_file()) files.insert(fs::relative(e.path(), dir.path()).string());
  EXPECT_EQ(files, std::set<std::string>{"root/b/secret.txt"});
}

TEST(ObjectKey, TheS3StoreRefusesEveryHostileKeyBeforeSendingOrSigning) {
  ScriptedServer server;
  server.answer(200, "");
  S3Store store(s3_options(server));
  for (const auto& key : hostile_keys()) {
    for (int op = 0; op < 6; ++op) {
      mcpd::core::Error e;
      bool accepted = false;
      switch (op) {
        case 0: if (auto r = store.get("a", key, ""); !(accepted = bool(r))) e = r.error(); break;
        case 1: if (auto r = store.head("a", key); !(accepted = bool(r))) e = r.error(); break;
        case 2: if (auto r = store.put("a", key, "pwned", "text/plain"); !(accepted = bool(r))) e = r.error(); break;
        case 3: if (auto r = store.remove("a", key); !(accepted = bool(r))) e = r.error(); break;
        case 4: if (auto r = store.presign_get("a", key, 60); !(accepted = bool(r))) e = r.error(); break;
        case 5: if (auto r = store.list(ListRequest{"a", key, "", 10, ""}); !(accepted = bool(r))) e = r.error(); break;
      }
      EXPECT_FALSE(accepted) << "op " << op << " accepted " << printable(key);
      EXPECT_EQ(e.kind, ErrorKind::InvalidArgument) << printable(key) << ": " << e.message;
    }
  }
  EXPECT_EQ(server.requests(), 0);  // nothing was sent
  // A bucket that is not one segment never reaches the wire either.
  EXPECT_FALSE(store.get("..", "b/secret.txt", ""));
  EXPECT_FALSE(store.presign_get("..", "b/secret.txt", 60));
  EXPECT_EQ(server.requests(), 0);
}

TEST(ObjectKey, LegitimateKeysGoOnTheWireExactlyAsSigV4CanonicalisesThem) {
  ScriptedServer server;
  server.answer(200, "x");
  S3Store store(s3_options(server));
  TempDir dir;
  LocalStore local(LocalStoreOptions{(dir.path() / "root").string(), 1000});
  local.ensure_bucket("bucket");
  for (const auto& [key, path] : legitimate_keys()) {
    // The signer's canonical URI is the expected one...
    EXPECT_EQ(sigv4::canonical_uri("/bucket/" + key), path) << key;
    // ...and the request line that arrives carries those very bytes: no layer re-encodes or tidies it.
    auto got = store.get("bucket", key, "");
    ASSERT_TRUE(got) << key << ": " << got.error().message;
    EXPECT_EQ(server.last_request_line(), "GET " + path + " HTTP/1.1") << key;
    auto url = store.presign_get("bucket", key, 60);
    ASSERT_TRUE(url) << key << ": " << url.error().message;
    EXPECT_EQ(url->rfind(server.endpoint() + path + "?", 0), 0u) << *url;
    // The local store takes the same keys as file names.
    auto put = local.put("bucket", key, "content", "");
    ASSERT_TRUE(put) << key << ": " << put.error().message;
    EXPECT_EQ(local.get("bucket", key, "")->bytes, "content") << key;
  }
  // A folder marker is an S3 key; the local store keeps folders for folders.
  ASSERT_TRUE(store.get("bucket", "folder/", ""));
  EXPECT_EQ(server.last_request_line(), "GET /bucket/folder/ HTTP/1.1");
  EXPECT_FALSE(local.put("bucket", "folder/", "x", ""));
}

TEST(ObjectKey, AwsCanonicalUriExamples) {
  // The examples of AWS's "Create a canonical request" (S3 encodes each path byte once, '/' stays),
  // and one reserved character for good measure.
  EXPECT_EQ(sigv4::canonical_uri("/examplebucket/myphoto.jpg"), "/examplebucket/myphoto.jpg");
  EXPECT_EQ(sigv4::canonical_uri("/documents and settings/"), "/documents%20and%20settings/");
  EXPECT_EQ(sigv4::canonical_uri("/test$file.text"), "/test%24file.text");
}

}  // namespace
