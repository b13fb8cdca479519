// The local store: put/get/head/delete, listing with prefix, delimiter and continuation tokens,
// ranges and the size cap, atomic writes, and every way a key or bucket could try to leave the
// root (.., absolute keys, NUL, backslashes, symbolic links, a bucket named "..").
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "../knowledge/temp_dir.hpp"
#include "infra/base64.hpp"
#include "packs/storage/local_store.hpp"
#include "packs/storage/storage_pack.hpp"

using namespace mcpd::packs::storage;
using mcpd::core::ErrorKind;
namespace fs = std::filesystem;
using mcpd::test::TempDir;
using mcpd::test::write_file;

namespace {

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() / "root";
    store_ = std::make_unique<LocalStore>(LocalStoreOptions{root_.string(), 1000});
    store_->ensure_bucket("docs");
  }

  void put(const std::string& key, const std::string& content = "x") {
    auto r = store_->put("docs", key, content, "");
    ASSERT_TRUE(r) << key << ": " << r.error().message;
  }

  ListPage list(const std::string& prefix, const std::string& delimiter = "", int max_keys = 1000,
                const std::string& token = "") {
    auto r = store_->list(ListRequest{"docs", prefix, delimiter, max_keys, token});
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : ListPage{};
  }

  static std::vector<std::string> keys(const ListPage& p) {
    std::vector<std::string> out;
    for (const auto& o : p.objects) out.push_back(o.key);
    return out;
  }

  // Every regular file under the temp dir but outside the root: none may appear.
  std::set<std::string> files_outside_root() const {
    std::set<std::string> out;
    for (auto& e : fs::recursive_directory_iterator(dir_.path()))
      if (e.is_regular_file() && !e.path().string().starts_with(root_.string() + "/")) out.insert(e.path().string());
    return out;
  }

  TempDir dir_;
  fs::path root_;
  std::unique_ptr<LocalStore> store_;
};

TEST_F(LocalStoreTest, PutGetHeadDelete) {
  auto put = store_->put("docs", "reports/2024/q1.txt", "hello world", "text/plain");
  ASSERT_TRUE(put) << put.error().message;
  EXPECT_EQ(put->size, 11u);
  EXPECT_EQ(put->etag.size(), 32u);
  EXPECT_TRUE(fs::is_regular_file(root_ / "docs" / "reports" / "2024" / "q1.txt"));

  auto got = store_->get("docs", "reports/2024/q1.txt", "");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->bytes, "hello world");
  EXPECT_EQ(got->info.size, 11u);
  EXPECT_EQ(got->info.etag, put->etag);
  EXPECT_EQ(got->info.content_type, "text/plain");
  EXPECT_TRUE(got->content_range.empty());
  EXPECT_EQ(got->info.last_modified.size(), 24u);  // 2024-05-01T12:00:00.000Z
  EXPECT_EQ(got->info.last_modified.back(), 'Z');

  auto head = store_->head("docs", "reports/2024/q1.txt");
  ASSERT_TRUE(head) << head.error().message;
  EXPECT_EQ(head->size, 11u);
  EXPECT_EQ(head->etag, put->etag);

  auto again = store_->put("docs", "reports/2024/q1.txt", "hello again!", "text/plain");
  ASSERT_TRUE(again);
  EXPECT_NE(again->etag, put->etag);

  ASSERT_TRUE(store_->remove("docs", "reports/2024/q1.txt"));
  auto gone = store_->get("docs", "reports/2024/q1.txt", "");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().kind, ErrorKind::NotFound);
  EXPECT_EQ(gone.error().code, "NoSuchKey");
  // The folders the delete emptied are gone too, as prefixes vanish on S3; the bucket stays.
  EXPECT_FALSE(fs::exists(root_ / "docs" / "reports"));
  EXPECT_TRUE(fs::is_directory(root_ / "docs"));
  // Deleting what does not exist succeeds, as on S3.
  EXPECT_TRUE(store_->remove("docs", "reports/2024/q1.txt"));
  EXPECT_TRUE(store_->remove("docs", "never/was.txt"));
}

TEST_F(LocalStoreTest, ContentTypeFromExtensionWhenNoneWasKept) {
  write_file(root_ / "docs" / "photo.PNG", "\x89PNG");
  write_file(root_ / "docs" / "notes", "plain");
  EXPECT_EQ(store_->head("docs", "photo.PNG")->content_type, "image/png");
  EXPECT_EQ(store_->head("docs", "notes")->content_type, "application/octet-stream");
  EXPECT_EQ(guess_content_type("a.b/c"), "application/octet-stream");
  EXPECT_EQ(guess_content_type("x/report.pdf"), "application/pdf");
}

TEST_F(LocalStoreTest, MissingBucketAndKey) {
  auto r = store_->get("nope", "a.txt", "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::NotFound);
  EXPECT_EQ(r.error().code, "NoSuchBucket");
  // The root is a path on the server: the log (detail) has it, the caller's message does not.
  EXPECT_EQ(r.error().message.find(root_.string()), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().detail.find(root_.string()), std::string::npos) << r.error().detail;
  auto p = store_->put("nope", "a.txt", "x", "");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, "NoSuchBucket");
  EXPECT_FALSE(fs::exists(root_ / "nope"));
  auto h = store_->head("docs", "missing/deep/key.txt");
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, "NoSuchKey");
  EXPECT_NE(h.error().message.find("docs/missing/deep/key.txt"), std::string::npos);
}

TEST_F(LocalStoreTest, ListsInByteOrderWithPrefix) {
  for (const char* k : {"b.txt", "a/2.txt", "a/1.txt", "a/sub/3.txt", "ab.txt", "Z.txt", "\xC3\xA9t\xC3\xA9.txt"}) put(k);
  EXPECT_EQ(keys(list("")), (std::vector<std::string>{"Z.txt", "a/1.txt", "a/2.txt", "a/sub/3.txt", "ab.txt", "b.txt",
                                                      "\xC3\xA9t\xC3\xA9.txt"}));
  EXPECT_EQ(keys(list("a/")), (std::vector<std::string>{"a/1.txt", "a/2.txt", "a/sub/3.txt"}));
  EXPECT_EQ(keys(list("a")), (std::vector<std::string>{"a/1.txt", "a/2.txt", "a/sub/3.txt", "ab.txt"}));
  EXPECT_EQ(keys(list("a/s")), (std::vector<std::string>{"a/sub/3.txt"}));
  EXPECT_TRUE(list("zzz/").objects.empty());
  EXPECT_TRUE(list("b.txt/").objects.empty());  // a prefix through an object lists nothing
  auto page = list("a/1");
  ASSERT_EQ(page.objects.size(), 1u);
  EXPECT_EQ(page.objects[0].size, 1u);
  EXPECT_FALSE(page.objects[0].etag.empty());
}

TEST_F(LocalStoreTest, DelimiterGroupsCommonPrefixes) {
  for (const char* k : {"top.txt", "a/1.txt", "a/sub/2.txt", "b/3.txt", "b-c.txt"}) put(k);
  fs::create_directories(root_ / "docs" / "empty" / "deeper");  // an empty folder is no prefix

  auto page = list("", "/");
  EXPECT_EQ(keys(page), (std::vector<std::string>{"b-c.txt", "top.txt"}));
  EXPECT_EQ(page.common_prefixes, (std::vector<std::string>{"a/", "b/"}));

  page = list("a/", "/");
  EXPECT_EQ(keys(page), (std::vector<std::string>{"a/1.txt"}));
  EXPECT_EQ(page.common_prefixes, (std::vector<std::string>{"a/sub/"}));

  page = list("a", "/");  // the prefix ends inside a name: "a/" is the group
  EXPECT_TRUE(page.objects.empty());
  EXPECT_EQ(page.common_prefixes, (std::vector<std::string>{"a/"}));

  // Any delimiter works, not only "/".
  page = list("", "-");
  EXPECT_EQ(page.common_prefixes, (std::vector<std::string>{"b-"}));
  EXPECT_EQ(keys(page), (std::vector<std::string>{"a/1.txt", "a/sub/2.txt", "b/3.txt", "top.txt"}));
}

TEST_F(LocalStoreTest, PaginationVisitsEveryEntryOnce) {
  std::vector<std::string> expected;
  for (int i = 0; i < 25; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "page/k%02d.txt", i);
    put(key);
    expected.push_back(key);
  }
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  for (;;) {
    auto page = list("page/", "", 10, token);
    ++pages;
    for (auto& k : keys(page)) seen.push_back(k);
    if (!page.is_truncated) {
      EXPECT_TRUE(page.next_continuation_token.empty());
      break;
    }
    ASSERT_FALSE(page.next_continuation_token.empty());
    token = page.next_continuation_token;
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, expected);

  // Common prefixes count towards max_keys and are never repeated on the next page.
  for (const char* k : {"g/a/1", "g/a/2", "g/b/1", "g/c", "g/d/1"}) put(k);
  auto first = list("g/", "/", 2);
  EXPECT_EQ(first.common_prefixes, (std::vector<std::string>{"g/a/", "g/b/"}));
  ASSERT_TRUE(first.is_truncated);
  auto second = list("g/", "/", 2, first.next_continuation_token);
  EXPECT_EQ(keys(second), (std::vector<std::string>{"g/c"}));
  EXPECT_EQ(second.common_prefixes, (std::vector<std::string>{"g/d/"}));
  EXPECT_FALSE(second.is_truncated);
}

TEST_F(LocalStoreTest, ForeignContinuationTokenIsRefused) {
  put("a.txt");
  for (const std::string& token : std::vector<std::string>{"not base64 !", mcpd::infra::base64url_encode("a.txt"), "%%%"}) {
    auto r = store_->list(ListRequest{"docs", "", "", 10, token});
    ASSERT_FALSE(r) << token;
    EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
    EXPECT_NE(r.error().message.find("continuation_token"), std::string::npos);
  }
}

TEST_F(LocalStoreTest, RangesAndSizeCap) {
  put("digits.txt", "0123456789");
  auto r = store_->get("docs", "digits.txt", "bytes=2-4");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->bytes, "234");
  EXPECT_EQ(r->content_range, "bytes 2-4/10");
  EXPECT_EQ(r->info.size, 10u);
  EXPECT_EQ(store_->get("docs", "digits.txt", "bytes=7-")->bytes, "789");
  EXPECT_EQ(store_->get("docs", "digits.txt", "bytes=-3")->bytes, "789");
  EXPECT_EQ(store_->get("docs", "digits.txt", "bytes=-30")->bytes, "0123456789");
  EXPECT_EQ(store_->get("docs", "digits.txt", "bytes=8-100")->content_range, "bytes 8-9/10");
  for (const char* bad : {"bytes=4-2", "2-4", "bytes=a-b", "bytes=-", "bytes=1-2,4-5", "items=0-1"}) {
    auto e = store_->get("docs", "digits.txt", bad);
    ASSERT_FALSE(e) << bad;
    EXPECT_EQ(e.error().kind, ErrorKind::InvalidArgument) << bad;
  }
  auto outside = store_->get("docs", "digits.txt", "bytes=10-");
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().code, "InvalidRange");

  put("big.bin", std::string(1500, 'b'));  // the cap is 1000 bytes here
  auto big = store_->get("docs", "big.bin", "");
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().kind, ErrorKind::InvalidArgument);
  EXPECT_EQ(big.error().code, "ObjectTooLarge");
  EXPECT_NE(big.error().message.find("read it in parts with a range such as \"bytes=0-999\""), std::string::npos)
      << big.error().message;
  auto part = store_->get("docs", "big.bin", "bytes=0-999");
  ASSERT_TRUE(part) << part.error().message;
  EXPECT_EQ(part->bytes.size(), 1000u);
  EXPECT_FALSE(store_->get("docs", "big.bin", "bytes=0-1000"));
  EXPECT_TRUE(store_->head("docs", "big.bin"));  // head has no cap
}

TEST_F(LocalStoreTest, WritesAreAtomic) {
  put("atomic.txt", std::string(900, 'a'));
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0}, reads{0};
  std::thread reader([&] {
    while (!stop) {
      auto r = store_->get("docs", "atomic.txt", "");
      if (!r) continue;
      ++reads;
      const std::string& b = r->bytes;
      if (b.size() != 900 || std::count(b.begin(), b.end(), b[0]) != 900) ++torn;
    }
  });
  for (int i = 0; i < 200; ++i) put("atomic.txt", std::string(900, i % 2 ? 'b' : 'a'));
  stop = true;
  reader.join();
  EXPECT_EQ(torn, 0);
  EXPECT_GT(reads, 0);
  // No temporary file is left behind, and none is ever listed.
  for (auto& e : fs::directory_iterator(root_ / "docs"))
    EXPECT_FALSE(e.path().filename().string().starts_with(".mcpd-tmp-")) << e.path();
  EXPECT_EQ(keys(list("")), (std::vector<std::string>{"atomic.txt"}));
}

TEST_F(LocalStoreTest, KeyAndFolderCollisions) {
  put("a/b.txt");
  auto over_folder = store_->put("docs", "a", "x", "");
  ASSERT_FALSE(over_folder);
  EXPECT_EQ(over_folder.error().kind, ErrorKind::InvalidArgument);
  auto through_object = store_->put("docs", "a/b.txt/c", "x", "");
  ASSERT_FALSE(through_object);
  EXPECT_EQ(through_object.error().kind, ErrorKind::InvalidArgument);
  auto folder_read = store_->get("docs", "a", "");
  ASSERT_FALSE(folder_read);
  EXPECT_EQ(folder_read.error().kind, ErrorKind::NotFound);
  EXPECT_TRUE(store_->remove("docs", "a"));  // a folder is no object: nothing to delete
  EXPECT_TRUE(fs::exists(root_ / "docs" / "a" / "b.txt"));
}

TEST_F(LocalStoreTest, TraversalAttemptsAreRefused) {
  write_file(dir_.path() / "secret.txt", "top secret");
  const std::vector<std::string> bad_keys = {
      "../secret.txt", "../../secret.txt", "a/../../secret.txt", "a/../b", "./a", "a/./b", "a/..", "..",
      "/etc/passwd",   "//x",              "a//b",               "a\\..\\b", std::string("a\0b", 3), "dir/",
      "ok/\x01",       "bad\xff",          "",                   std::string(1025, 'k'), ".mcpd-tmp-123"};
  for (const auto& key : bad_keys) {
    for (int op = 0; op < 4; ++op) {
      mcpd::core::Error e;
      bool ok = false;
      switch (op) {
        case 0: if (auto r = store_->get("docs", key, ""); !(ok = bool(r))) e = r.error(); break;
        case 1: if (auto r = store_->head("docs", key); !(ok = bool(r))) e = r.error(); break;
        case 2: if (auto r = store_->put("docs", key, "pwned", ""); !(ok = bool(r))) e = r.error(); break;
        case 3: if (auto r = store_->remove("docs", key); !(ok = bool(r))) e = r.error(); break;
      }
      EXPECT_FALSE(ok) << "op " << op << " accepted key " << key;
      EXPECT_EQ(e.kind, ErrorKind::InvalidArgument) << key << ": " << e.message;
    }
  }
  EXPECT_EQ(files_outside_root(), (std::set<std::string>{(dir_.path() / "secret.txt").string()}));
  EXPECT_EQ(read_all(dir_.path() / "secret.txt"), "top secret");

  // Prefixes with dot segments are refused too; prefixes are never opened beyond their folders.
  for (const char* prefix : {"../", "..", "a/../", "/"}) {
    auto r = store_->list(ListRequest{"docs", prefix, "", 10, ""});
    EXPECT_FALSE(r) << prefix;
  }
}

TEST_F(LocalStoreTest, UrlEscapesInKeysAreRefusedAndTheirFilesNotListed) {
  // A key with a URL escape could be decoded into another key by a server on the way: refused on
  // every store, this one included, and a file named that way (put there by hand) is no object.
  for (const char* key : {"%2e%2e/%2e%2e/escaped.txt", "a%2Fb", "a%5cb", "%c0%ae%c0%ae/x"}) {
    auto r = store_->put("docs", key, "inside", "");
    ASSERT_FALSE(r) << key;
    EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
    EXPECT_NE(r.error().message.find("URL escape"), std::string::npos) << r.error().message;
  }
  put("100%.txt", "a lone % is an ordinary character");
  EXPECT_EQ(store_->get("docs", "100%.txt", "")->bytes, "a lone % is an ordinary character");
  write_file(root_ / "docs" / "%2e%2e.txt", "by hand");
  EXPECT_EQ(keys(list("")), std::vector<std::string>{"100%.txt"});
  EXPECT_EQ(files_outside_root(), std::set<std::string>{});
}

TEST_F(LocalStoreTest, BadBucketNamesAreRefused) {
  for (const std::string& bucket : std::vector<std::string>{"..", ".", "", "a/b", "../root", ".hidden", "-x", "x\\y",
                                                           std::string("a\0", 2), std::string(64, 'b')}) {
    auto r = store_->get(bucket, "k", "");
    ASSERT_FALSE(r) << bucket;
    EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument) << bucket;
    auto p = store_->put(bucket, "k", "x", "");
    ASSERT_FALSE(p) << bucket;
    auto l = store_->list(ListRequest{bucket, "", "", 10, ""});
    ASSERT_FALSE(l) << bucket;
  }
  EXPECT_EQ(files_outside_root(), std::set<std::string>{});
}

TEST_F(LocalStoreTest, SymbolicLinksAreNeverFollowed) {
  const fs::path outside = dir_.path() / "outside";
  write_file(outside / "loot.txt", "outside data");
  fs::create_directory_symlink(outside, root_ / "docs" / "link-dir");
  fs::create_symlink(outside / "loot.txt", root_ / "docs" / "link-file.txt");
  fs::create_directory_symlink(outside, root_ / "linked-bucket");
  put("real.txt");

  // Reads through a link are refused (not found would hide why).
  for (const char* key : {"link-dir/loot.txt", "link-file.txt"}) {
    auto r = store_->get("docs", key, "");
    ASSERT_FALSE(r) << key;
    EXPECT_EQ(r.error().kind, ErrorKind::Refused) << key << ": " << r.error().message;
    EXPECT_NE(r.error().message.find("symbolic link"), std::string::npos);
    EXPECT_FALSE(store_->head("docs", key));
  }
  auto bucket = store_->get("linked-bucket", "loot.txt", "");
  ASSERT_FALSE(bucket);
  EXPECT_EQ(bucket.error().kind, ErrorKind::Refused);

  // Writes through a linked folder are refused; a write onto a link replaces the link itself.
  auto w = store_->put("docs", "link-dir/new.txt", "pwned", "");
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().kind, ErrorKind::Refused);
  EXPECT_FALSE(fs::exists(outside / "new.txt"));
  EXPECT_FALSE(store_->put("linked-bucket", "new.txt", "pwned", ""));
  EXPECT_FALSE(fs::exists(outside / "new.txt"));
  EXPECT_FALSE(store_->remove("docs", "link-dir/loot.txt"));
  EXPECT_FALSE(store_->remove("docs", "link-file.txt"));
  EXPECT_TRUE(fs::exists(outside / "loot.txt"));

  // Links are invisible to listings.
  EXPECT_EQ(keys(list("")), (std::vector<std::string>{"real.txt"}));
  auto grouped = list("", "/");
  EXPECT_TRUE(grouped.common_prefixes.empty());
  EXPECT_TRUE(list("link-dir/").objects.empty());

  ASSERT_TRUE(store_->put("docs", "link-file.txt", "replaced", ""));
  EXPECT_FALSE(fs::is_symlink(root_ / "docs" / "link-file.txt"));
  EXPECT_EQ(read_all(outside / "loot.txt"), "outside data");
}

TEST_F(LocalStoreTest, PresignIsUnsupportedAndHealthWatchesTheRoot) {
  auto r = store_->presign_get("docs", "a.txt", 60);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Refused);
  EXPECT_EQ(r.error().code, "NotImplemented");
  EXPECT_NE(r.error().message.find("only for S3 stores"), std::string::npos);
  EXPECT_EQ(store_->health("docs"), "ok");
  EXPECT_NE(store_->health("nope"), "ok");
  fs::remove_all(root_);
  EXPECT_NE(store_->health(""), "ok");
}

TEST(TextOrBlob, DecidedByBytesAndContentType) {
  EXPECT_TRUE(is_text_object("hello", "text/plain"));
  EXPECT_TRUE(is_text_object("{\"a\":1}", "application/json; charset=utf-8"));
  EXPECT_TRUE(is_text_object("caf\xC3\xA9", ""));
  EXPECT_TRUE(is_text_object("plain", "application/octet-stream"));
  EXPECT_TRUE(is_text_object("<svg/>", "image/svg+xml"));
  EXPECT_FALSE(is_text_object("caf\xE9", "text/plain"));           // Latin-1, not UTF-8
  EXPECT_FALSE(is_text_object(std::string("a\0b", 3), "text/plain"));
  EXPECT_FALSE(is_text_object("GIF89a", "image/gif"));              // ASCII, but an image
  EXPECT_FALSE(is_text_object("%PDF-1.4", "application/pdf"));
}

}  // namespace
