// The use-lite provider: tokenizer edge cases, the model loader's refusals, batch invariance, and
// semantic search with the real model (a paraphrase that shares no word with its document).
// The model comes from scripts/fetch-model.sh (install-deps.sh runs it); without it these fail.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "temp_dir.hpp"
#include "packs/knowledge/embed/use_lite/encoder.hpp"
#include "packs/knowledge/embed/use_lite/tokenizer.hpp"
#include "packs/knowledge/embed/use_lite_embedder.hpp"
#include "packs/knowledge/index/index_store.hpp"
#include "packs/knowledge/search/search.hpp"
#include "packs/knowledge/sources/directory_source.hpp"
#include "packs/knowledge/sync/sync_engine.hpp"

using namespace mcpd::packs::knowledge;
using namespace mcpd::packs::knowledge::use_lite;
using mcpd::test::TempDir;
using mcpd::test::write_file;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

fs::path model_dir() {
  auto dir = find_use_lite_model({});
  if (!dir) throw std::runtime_error("the use-lite model is not installed: run scripts/fetch-model.sh");
  return *dir;
}

const Tokenizer& tokenizer() {
  static Tokenizer t = Tokenizer::load(model_dir() / "vocab.json");
  return t;
}

const Encoder& encoder() {
  static TfjsWeights w = TfjsWeights::load(model_dir());
  static Encoder e(w);
  return e;
}

std::string error_of(const fs::path& dir) {
  try {
    TfjsWeights::load(dir);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "(loaded)";
}

fs::path copy_model(const TempDir& t) {
  fs::path dir = t.path() / "model";
  fs::create_directories(dir);
  for (const auto& entry : fs::directory_iterator(model_dir())) fs::copy_file(entry.path(), dir / entry.path().filename());
  return dir;
}

}  // namespace

TEST(UseLiteTokenizer, EdgeCasesMatchTheJavaScriptTokenizer) {
  const auto& t = tokenizer();
  EXPECT_EQ(t.size(), 8000u);
  EXPECT_TRUE(t.encode("").empty());
  EXPECT_EQ(t.encode(" "), (std::vector<std::int32_t>{30, 30}));  // "▁" + one "▁" per space
  EXPECT_EQ(t.encode(":"), (std::vector<std::int32_t>{30, 57}));  // a null score counts as 0, and 0 means "no path yet"
  EXPECT_EQ(t.encode("日本"), (std::vector<std::int32_t>{30, 0}));  // unknown characters merge into one <unk>
  EXPECT_NE(t.encode("I"), t.encode("i"));                            // no lower-casing
  EXPECT_EQ(t.encode("ｆｕｌｌｗｉｄｔｈ"), t.encode("fullwidth"));   // NFKC
  EXPECT_EQ(t.encode("ﬁne"), t.encode("fine"));
  EXPECT_EQ(t.encode("\xff\xfe broken"), t.encode("\xef\xbf\xbd\xef\xbf\xbd broken"));  // invalid bytes are U+FFFD
}

TEST(UseLiteModel, LoaderRefusesTruncatedOrMismatchedFiles) {
  TempDir t;
  fs::path dir = copy_model(t);
  EXPECT_EQ(error_of(dir), "(loaded)");
  // A truncated shard.
  fs::resize_file(dir / "group1-shard7of7", fs::file_size(dir / "group1-shard7of7") - 4);
  EXPECT_NE(error_of(dir).find("truncated"), std::string::npos) << error_of(dir);
  // A shard with bytes that model.json does not account for.
  fs::resize_file(dir / "group1-shard7of7", fs::file_size(dir / "group1-shard7of7") + 8);
  EXPECT_NE(error_of(dir).find("do not belong to this model.json"), std::string::npos) << error_of(dir);
  fs::remove(dir / "group1-shard7of7");
  EXPECT_NE(error_of(dir).find("cannot read"), std::string::npos) << error_of(dir);
  // A weight of another shape: the encoder names it.
  TempDir t2;
  fs::path other = copy_model(t2);
  std::ifstream in(other / "model.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  // The weights manifest's entry (the last mention of the name): its shape [512] becomes [256, 2].
  auto at = text.rfind("\"module/Encoder_en/hidden_layers/tanh_layer_0/bias\"");
  ASSERT_NE(at, std::string::npos);
  auto shape = text.find("512", at);
  ASSERT_NE(shape, std::string::npos);
  text.replace(shape, 3, "256, 2");
  write_file(other / "model.json", text);
  try {
    auto w = TfjsWeights::load(other);
    Encoder e(w);
    ADD_FAILURE() << "a model with a reshaped weight was accepted";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("tanh_layer_0/bias"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_use_lite_embedder({t.path() / "nowhere", 1}), EmbeddingError);
}

TEST(UseLiteModel, BatchesGiveTheSameUnitVectors) {
  const auto& e = encoder();
  std::vector<std::vector<std::int32_t>> batch{tokenizer().encode("reset your password"), {},
                                               tokenizer().encode("a much longer sentence about configuring the database server")};
  auto together = e.encode_batch(batch);
  for (std::size_t s = 0; s < batch.size(); ++s) {
    auto alone = e.encode(batch[s]);
    double norm = 0;
    for (std::size_t i = 0; i < kDimension; ++i) {
      EXPECT_NEAR(together[s][i], alone[i], 1e-5);
      norm += static_cast<double>(alone[i]) * alone[i];
    }
    EXPECT_NEAR(norm, 1.0, 1e-4);
  }
  // Past 128 tokens nothing changes (the model's maximum length).
  std::vector<std::int32_t> long_ids(200, 100);
  std::vector<std::int32_t> cut(long_ids.begin(), long_ids.begin() + 128);
  EXPECT_EQ(e.encode(long_ids), e.encode(cut));
}

TEST(UseLiteSearch, FindsAParaphraseThatSharesNoWordAndSurvivesARestart) {
  TempDir t;
  write_file(t.path() / "docs/password.md", "# Account help\n\nHow to reset your password.\n");
  write_file(t.path() / "docs/deploy.md", "# Deployment\n\nShip the containers to the production cluster.\n");
  write_file(t.path() / "docs/db.md", "# Storage\n\nTune the database connection pool size.\n");
  auto embedder = make_use_lite_embedder({model_dir(), 2});
  auto index = (t.path() / "kb.db").string();
  {
    IndexStore store(index);
    SyncEngine engine(store, {}, {}, embedder.get());
    auto source = make_directory_source({"docs", (t.path() / "docs").string(), {}, {}});
    auto r = engine.sync(*source);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.counts.embedded, 3u);
    EXPECT_EQ(store.embedding_model()->first, "use-lite:universal-sentence-encoder-lite");
    EXPECT_EQ(store.embedding_model()->second, 512u);
  }
  // A new process: the vectors are read back, nothing is embedded again.
  IndexStore store(index);
  SyncEngine engine(store, {}, {}, embedder.get());
  auto source = make_directory_source({"docs", (t.path() / "docs").string(), {}, {}});
  EXPECT_EQ(engine.sync(*source).counts.embedded, 0u);
  Searcher s(store, embedder.get());
  auto r = s.search(json::parse(R"({"query":"forgot my login credentials","mode":"semantic","limit":3})").as_object());
  ASSERT_TRUE(r) << r.error().message;
  const auto& results = r->at("results").as_array();
  ASSERT_FALSE(results.empty());
  EXPECT_EQ(results[0].at("path").as_string(), "password.md");
  // Lexically the same query finds nothing: no word is shared.
  auto lexical = s.search(json::parse(R"({"query":"forgot my login credentials","mode":"lexical"})").as_object()).value();
  EXPECT_TRUE(lexical.at("results").as_array().empty());
}

TEST(UseLiteSearch, VectorsOfAnotherModelAreRefused) {
  TempDir t;
  write_file(t.path() / "docs/a.md", "# A\n\nsomething to embed\n");
  IndexStore store((t.path() / "kb.db").string());
  store.set_embedding_model("openai:text-embedding-3-small", 1536);
  auto embedder = make_use_lite_embedder({model_dir(), 1});
  SyncEngine engine(store, {}, {}, embedder.get());
  auto source = make_directory_source({"docs", (t.path() / "docs").string(), {}, {}});
  auto r = engine.sync(*source);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("openai:text-embedding-3-small (1536 dimensions)"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("reembed"), std::string::npos) << r.error;
}
