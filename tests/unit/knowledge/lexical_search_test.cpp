// Lexical search: query parsing, the mcpd_bm25 ranking function, batched writes and the two tiers.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "infra/sqlite.hpp"
#include "search_pages.hpp"
#include "temp_dir.hpp"
#include "packs/knowledge/index/fts_rank.hpp"
#include "packs/knowledge/index/index_store.hpp"
#include "packs/knowledge/index/lexical_query.hpp"
#include "packs/knowledge/index/snippet.hpp"
#include "packs/knowledge/index/vector_index.hpp"
#include "packs/knowledge/search/search.hpp"

using namespace mcpd::packs::knowledge;
namespace fs = std::filesystem;
namespace json = boost::json;

using mcpd::test::TempDir;

namespace {

PendingDocument doc(std::string path, std::vector<std::string> chunk_texts) {
  PendingDocument d;
  d.input = {path, path, "text", "v1", "", 1, ""};
  int line = 1;
  for (auto& t : chunk_texts) {
    d.input.text += t + "\n";
    d.chunks.push_back(Chunk{t, "", line, line, path + "#" + std::to_string(line)});
    ++line;
  }
  return d;
}

std::vector<std::string> paths(const std::vector<Hit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(h.path);
  return out;
}

json::object search(Searcher& s, const std::string& args) {
  auto r = s.search(json::parse(args).as_object());
  if (!r) {
    ADD_FAILURE() << (r.failed() ? r.error().message : "cancelled");
    return {};
  }
  return std::move(r).value();
}

}  // namespace

TEST(LexicalQuery, QuotesWordsDropsStopWordsAndDuplicates) {
  EXPECT_EQ(parse_lexical_query("hello world").expression(), R"("hello" AND "world")");
  EXPECT_EQ(any_of(parse_lexical_query("hello world")).expression(), R"("hello" OR "world")");
  // FTS5 syntax is never passed through: operators and quotes become plain words or separators.
  EXPECT_EQ(parse_lexical_query("c++ -x \"quoted\" NEAR(b c) col:term^ AND").expression(),
            R"("c" AND "x" AND "quoted" AND "NEAR" AND "b" AND "col" AND "term")");
  EXPECT_EQ(parse_lexical_query("list the contents of a directory").terms,
            (std::vector<std::string>{"list", "contents", "directory"}));
  EXPECT_EQ(parse_lexical_query("The the THE").terms, (std::vector<std::string>{"The"}));  // only stop-words: kept
  EXPECT_EQ(parse_lexical_query("Copy copy COPY files").terms, (std::vector<std::string>{"Copy", "files"}));
  EXPECT_TRUE(parse_lexical_query("  ;;  ").empty());
  EXPECT_EQ(parse_lexical_query("café").expression(), "\"café\"");
  std::string many;
  for (int i = 0; i < 100; ++i) {
    many.push_back('w');
    many.append(std::to_string(i)).push_back(' ');
  }
  EXPECT_EQ(parse_lexical_query(many).terms.size(), kMaxQueryTerms);
}

TEST(LexicalQuery, RarerTermsStayWithinTheBudget) {
  LexicalQuery q = parse_lexical_query("common rare middle");
  EXPECT_EQ(rarer_terms(q, {5000, 10, 900}, 1000).terms, (std::vector<std::string>{"rare", "middle"}));
  EXPECT_FALSE(rarer_terms(q, {5000, 10, 900}, 1000).every);
  EXPECT_EQ(rarer_terms(q, {5000, 10, 900}, 100).terms, (std::vector<std::string>{"rare"}));
  EXPECT_TRUE(rarer_terms(q, {5000, 2000, 3000}, 1000).empty());
}

TEST(FtsRank, EqualsFts5Bm25WithAndWithoutGivenFrequencies) {
  mcpd::infra::SqliteDatabase db(":memory:");
  register_fts_rank(db.handle());
  db.exec("CREATE VIRTUAL TABLE t USING fts5(title, body, tokenize='porter unicode61')");
  const char* rows[][2] = {{"Alpha", "alpha beta gamma"},        {"Beta", "beta beta delta epsilon"},
                           {"Gamma", "gamma alpha alpha alpha"}, {"Notes", "unrelated words entirely"},
                           {"Alpha beta", "beta"},               {"Zeta", "alpha zeta zeta zeta zeta zeta zeta"}};
  for (auto& r : rows) db.prepare("INSERT INTO t(title, body) VALUES (?1, ?2)").bind(1, r[0]).bind(2, r[1]).run();
  for (const char* expr : {R"("alpha")", R"("alpha" OR "beta")", R"("beta" AND "alpha")", R"("gamma" OR "zeta" OR "beta")"}) {
    auto reference = db.prepare("SELECT rowid, bm25(t, 3.0, 1.0) FROM t WHERE t MATCH ?1 ORDER BY rowid");
    reference.bind(1, expr);
    // Frequencies as the index computes them: the rows containing each phrase.
    std::vector<std::int64_t> counts;
    for (auto& phrase : any_of(parse_lexical_query(expr)).terms) {
      auto c = db.prepare("SELECT count(*) FROM t WHERE t MATCH ?1");
      c.bind(1, "\"" + phrase + "\"");
      ASSERT_TRUE(c.step());
      counts.push_back(c.int64(0));
    }
    std::string given = encode_frequencies(counts);
    auto with = db.prepare("SELECT rowid, mcpd_bm25(t, ?2, 3.0, 1.0) FROM t WHERE t MATCH ?1 ORDER BY rowid");
    with.bind(1, expr).bind_blob(2, given.data(), given.size());
    auto without = db.prepare("SELECT rowid, mcpd_bm25(t, NULL, 3.0, 1.0) FROM t WHERE t MATCH ?1 ORDER BY rowid");
    without.bind(1, expr);
    int n = 0;
    while (reference.step()) {
      ASSERT_TRUE(with.step());
      ASSERT_TRUE(without.step());
      EXPECT_EQ(with.int64(0), reference.int64(0));
      EXPECT_DOUBLE_EQ(with.real(1), reference.real(1)) << expr;
      EXPECT_DOUBLE_EQ(without.real(1), reference.real(1)) << expr;
      ++n;
    }
    EXPECT_FALSE(with.step());
    EXPECT_GT(n, 0) << expr;
  }
  // Wrong-sized frequencies are not trusted: the function counts, like bm25().
  auto wrong = db.prepare("SELECT mcpd_bm25(t, x'00', 3.0, 1.0) - bm25(t, 3.0, 1.0) FROM t WHERE t MATCH 'alpha'");
  while (wrong.step()) EXPECT_NEAR(wrong.real(0), 0.0, 1e-12);
}

TEST(IndexStore, BatchedWritesKeepTheFullTextIndexConsistent) {
  TempDir dir;
  IndexStore store((dir.path() / "kb.db").string());
  store.ensure_source("s", "directory");
  store.put_documents("s", {doc("a.txt", {"apple orchard", "apple pie"}), doc("b.txt", {"banana split"}),
                            doc("c.txt", {"cherry apple"})});
  EXPECT_EQ(store.check_integrity(), "");
  EXPECT_EQ(store.search(parse_lexical_query("apple"), {}, 10).size(), 3u);
  // Replacing some documents of the batch and adding one: old chunks leave the full-text index.
  store.put_documents("s", {doc("a.txt", {"avocado"}), doc("d.txt", {"date apple"})});
  EXPECT_EQ(store.check_integrity(), "");
  auto apple = paths(store.search(parse_lexical_query("apple"), {}, 10));
  std::sort(apple.begin(), apple.end());
  EXPECT_EQ(apple, (std::vector<std::string>{"c.txt", "d.txt"}));
  EXPECT_EQ(paths(store.search(parse_lexical_query("avocado"), {}, 10)), (std::vector<std::string>{"a.txt"}));
  store.delete_document("s", "c.txt");
  EXPECT_EQ(store.check_integrity(), "");
  EXPECT_EQ(paths(store.search(parse_lexical_query("apple"), {}, 10)), (std::vector<std::string>{"d.txt"}));
  // Counts follow the changes (the cache is dropped when the index changes).
  EXPECT_EQ(store.chunk_counts({"apple", "avocado", "missing"}), (std::vector<std::int64_t>{1, 1, 0}));
  store.put_documents("s", {doc("e.txt", {"apple", "apple again"})});
  EXPECT_EQ(store.chunk_counts({"apple"}), (std::vector<std::int64_t>{3}));
}

TEST(IndexStore, OpensAnIndexMadeWithTheOldTriggers) {
  TempDir dir;
  auto file = (dir.path() / "kb.db").string();
  { IndexStore store(file); }
  {
    // What earlier versions created: the full-text index kept by per-row triggers.
    mcpd::infra::SqliteDatabase db(file);
    db.exec(R"SQL(
CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
  INSERT INTO chunks_fts(rowid, title, heading, text) VALUES (new.id, new.title, new.heading, new.text);
END;
CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
  INSERT INTO chunks_fts(chunks_fts, rowid, title, heading, text) VALUES ('delete', old.id, old.title, old.heading, old.text);
END;)SQL");
  }
  IndexStore store(file);
  store.ensure_source("s", "directory");
  store.put_documents("s", {doc("a.txt", {"apple"})});
  store.put_documents("s", {doc("a.txt", {"apricot"})});
  EXPECT_EQ(store.check_integrity(), "");  // no chunk indexed twice, none left behind
  EXPECT_EQ(store.search(parse_lexical_query("apricot"), {}, 10).size(), 1u);
  EXPECT_TRUE(store.search(parse_lexical_query("apple"), {}, 10).empty());
}

TEST(Searcher, PassagesWithEveryWordComeFirstThenTheRarerWords) {
  TempDir dir;
  IndexStore store((dir.path() / "kb.db").string());
  store.ensure_source("s", "directory");
  std::vector<PendingDocument> docs;
  // "common" is in every document; "zephyr" and "quartz" are rare.
  docs.push_back(doc("both.txt", {"common zephyr quartz"}));
  docs.push_back(doc("zephyr.txt", {"common zephyr zephyr zephyr zephyr"}));
  docs.push_back(doc("quartz.txt", {"common quartz"}));
  for (int i = 0; i < 20; ++i) docs.push_back(doc("filler" + std::to_string(i) + ".txt", {"common filler text"}));
  store.put_documents("s", docs);
  Searcher s(store);

  auto answer = search(s, R"({"query":"the zephyr and quartz","limit":10})");
  const auto& results = answer.at("results").as_array();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].at("path").as_string(), "both.txt");  // every word
  std::set<std::string> rest{std::string(results[1].at("path").as_string()), std::string(results[2].at("path").as_string())};
  EXPECT_EQ(rest, (std::set<std::string>{"zephyr.txt", "quartz.txt"}));
  EXPECT_EQ(json::serialize(answer.at("match")), R"({"all":["zephyr","quartz"],"any":["zephyr","quartz"]})");
  EXPECT_NE(results[0].at("snippet").as_string().find("**zephyr**"), std::string::npos);

  // A word found nowhere does not empty the answer; stop-words are not searched for.
  answer = search(s, R"({"query":"zephyr xylograph","limit":10})");
  EXPECT_EQ(json::serialize(answer.at("match")), R"({"all":["zephyr"]})");
  EXPECT_EQ(answer.at("results").as_array().size(), 2u);

  // Enough passages with every word: the rarer-word tier does not run.
  answer = search(s, R"({"query":"common filler","limit":5})");
  EXPECT_FALSE(answer.at("match").as_object().contains("any"));
  EXPECT_EQ(answer.at("results").as_array().size(), 5u);
}

TEST(Searcher, CommonWordsOverTheBudgetAreLeftOutOfTheSecondTier) {
  TempDir dir;
  IndexStore store((dir.path() / "kb.db").string());
  store.ensure_source("s", "directory");
  // "alpha" and "beta" are each in more chunks than the budget and never together; "gamma" is rare.
  std::vector<std::string> alpha, beta;
  for (std::int64_t i = 0; i <= kRareTermBudget; ++i) {
    alpha.push_back("alpha " + std::to_string(i));
    beta.push_back("beta " + std::to_string(i));
  }
  store.put_documents("s", {doc("alpha.txt", alpha), doc("beta.txt", beta), doc("gamma.txt", {"gamma alpha"})});
  Searcher s(store);
  auto answer = search(s, R"({"query":"alpha beta gamma","limit":3})");
  EXPECT_EQ(json::serialize(answer.at("match")), R"({"all":["alpha","beta","gamma"],"any":["gamma"]})");
  ASSERT_EQ(answer.at("results").as_array().size(), 1u);
  EXPECT_EQ(answer.at("results").as_array()[0].at("path").as_string(), "gamma.txt");
  // Nothing has both common words and none is under the budget: the rarest one alone.
  answer = search(s, R"({"query":"alpha beta","limit":3})");
  EXPECT_EQ(answer.at("match").at("any").as_array().size(), 1u);
  EXPECT_FALSE(answer.at("results").as_array().empty());
}

// A page has a cursor exactly when a later offset finds more: when tier 1 alone fills a page of one
// (the passages with the rarer words come after it), and when one document's passages fill the
// candidates and the per-document cap leaves the page short.
TEST(Searcher, FollowingTheCursorsVisitsEveryResultOnce) {
  TempDir dir;
  IndexStore store((dir.path() / "kb.db").string());
  store.ensure_source("s", "directory");
  std::vector<std::string> crowd;
  for (int i = 0; i < 60; ++i) crowd.push_back("needle needle " + std::to_string(i));
  store.put_documents("s", {doc("both.txt", {"zephyr quartz"}), doc("zephyr.txt", {"zephyr and other words"}),
                            doc("quartz.txt", {"quartz among many other words here"}), doc("crowd.txt", crowd),
                            doc("other.txt", {"a needle in a long passage of words about something else entirely"})});
  Searcher s(store);

  auto first = search(s, R"({"query":"zephyr quartz","limit":1})");
  EXPECT_EQ(mcpd::test::result_keys(first), (std::vector<std::string>{"both.txt:1"}));
  ASSERT_TRUE(first.contains("next_cursor"));
  EXPECT_EQ(mcpd::test::expect_pages_cover_everything(s, json::parse(R"({"query":"zephyr quartz"})").as_object()).size(), 3u);

  auto capped = mcpd::test::expect_pages_cover_everything(s, json::parse(R"({"query":"needle","max_per_document":1})").as_object());
  ASSERT_EQ(capped.size(), 2u);
  EXPECT_EQ(capped[0].substr(0, 10), "crowd.txt:");
  EXPECT_EQ(capped[1], "other.txt:1");
  EXPECT_EQ(mcpd::test::expect_pages_cover_everything(s, json::parse(R"({"query":"needle","max_per_document":2})").as_object()).size(), 3u);
  mcpd::test::expect_pages_cover_everything(s, json::parse(R"({"query":"needle zephyr","max_per_document":1})").as_object());
}

// The candidate lists stop growing at a bound: a page left short there says so (and has no cursor,
// since every later page would look at the same candidates and find no more).
TEST(Searcher, APageLeftShortAtTheBoundSaysSo) {
  TempDir dir;
  IndexStore store((dir.path() / "kb.db").string());
  store.ensure_source("s", "directory");
  std::vector<std::string> crowd;
  for (int i = 0; i < 16400; ++i) crowd.push_back("needle needle " + std::to_string(i));
  store.put_documents("s", {doc("crowd.txt", crowd), doc("other.txt", {"a needle in a long passage of words about something else"})});
  Searcher s(store);
  auto first = search(s, R"({"query":"needle","limit":1,"max_per_document":1})");
  ASSERT_EQ(first.at("results").as_array().size(), 1u);
  EXPECT_EQ(first.at("results").as_array()[0].at("path").as_string(), "crowd.txt");
  EXPECT_FALSE(first.contains("next_cursor"));
  EXPECT_EQ(first.at("note").as_string(), "the search stopped after the best 16384 passages: narrow it (source, path_prefix, "
                                          "file_type) or raise max_per_document to see more");
  EXPECT_NE(Searcher::render_text(first).find("\nNote: the search stopped after the best 16384 passages"), std::string::npos);
  EXPECT_TRUE(search(s, R"({"query":"needle","limit":1,"offset":1,"max_per_document":1})").at("results").as_array().empty());
  // Narrowed, the other document is found, and without the note.
  auto narrowed = search(s, R"({"query":"needle","limit":1,"path_prefix":"other"})");
  EXPECT_EQ(narrowed.at("results").as_array().size(), 1u);
  EXPECT_FALSE(narrowed.contains("note"));
  // A full page needs no note.
  EXPECT_FALSE(search(s, R"({"query":"needle","limit":1})").contains("note"));
}

TEST(Snippeter, MarksWordsAsTheIndexMatchesThem) {
  mcpd::infra::SqliteDatabase db(":memory:");
  Snippeter s(db.handle());
  // Stemmed, case-folded and accent-folded as 'porter unicode61' does; whole words only.
  auto a = s.make({"directory", "Cafe"}, "List the DIRECTORIES of the café; a subdirectory is not one.");
  EXPECT_TRUE(a.marked);
  EXPECT_EQ(a.text, "List the **DIRECTORIES** of the **café**; a subdirectory is not one.");
  // A word with inner punctuation is a phrase of tokens; each token is marked.
  EXPECT_EQ(s.make({"INTERFACE_LINK"}, "see INTERFACE_LINK_LIBRARIES").text, "see **INTERFACE**_**LINK**_LIBRARIES");
  // No word of the query: the start of the text, unmarked.
  auto none = s.make({"zebra"}, "one two three four five", 3);
  EXPECT_FALSE(none.marked);
  EXPECT_EQ(none.text, "one two three…");
  EXPECT_EQ(s.make({"x"}, "").text, "");
}

TEST(Snippeter, PicksTheWindowWithTheMostDistinctWords) {
  mcpd::infra::SqliteDatabase db(":memory:");
  Snippeter s(db.handle());
  std::string text;
  for (int i = 0; i < 40; ++i) text += "alpha filler ";
  text += "alpha beta gamma ";
  for (int i = 0; i < 40; ++i) text += "filler ";
  auto out = s.make({"alpha", "beta", "gamma"}, text, 10);
  EXPECT_TRUE(out.marked);
  EXPECT_NE(out.text.find("**alpha** **beta** **gamma**"), std::string::npos) << out.text;
  EXPECT_EQ(out.text.rfind("…", 0), 0u) << out.text;          // cut before
  EXPECT_EQ(out.text.substr(out.text.size() - 3), "…") << out.text;  // and after
  EXPECT_EQ(s.tokens("Running Directories", false), (std::vector<std::string>{"run", "directori"}));
}

TEST(VectorSet, TheInt8ScanFindsTheExactNeighbours) {
  // Clustered synthetic vectors (like embeddings: many near-duplicates), 20,000 × 512.
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  const std::size_t dim = 512, n = 20000, clusters = 200;
  std::vector<std::vector<float>> centers(clusters, std::vector<float>(dim));
  for (auto& c : centers)
    for (auto& x : c) x = noise(rng);
  VectorSet set;
  std::vector<float> v(dim);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& c = centers[i % clusters];
    for (std::size_t d = 0; d < dim; ++d) v[d] = c[d] + 0.35f * noise(rng);
    set.add(static_cast<std::int64_t>(i) + 1, v.data(), dim);
  }
  set.add(99999, std::vector<float>(dim, 0.0f).data(), dim);  // a zero vector is ignored
  set.add(99998, v.data(), 3);                                 // so is another dimension
  ASSERT_EQ(set.size(), n);
  std::size_t found = 0, wanted = 0;
  for (int q = 0; q < 50; ++q) {
    std::vector<float> query(dim);
    for (std::size_t d = 0; d < dim; ++d) query[d] = centers[static_cast<std::size_t>(q) * 3][d] + 0.5f * noise(rng);
    auto exact = set.exact(query, 10);
    auto fast = set.quantized(query, 10);
    ASSERT_EQ(exact.size(), 10u);
    ASSERT_EQ(fast.size(), 10u);
    for (std::size_t i = 1; i < exact.size(); ++i) EXPECT_GE(exact[i - 1].second, exact[i].second);
    for (const auto& e : exact) {
      ++wanted;
      found += std::any_of(fast.begin(), fast.end(), [&](const auto& f) { return f.first == e.first; });
    }
    // Scores are exact cosines either way.
    for (const auto& f : fast) {
      for (const auto& e : exact) {
        if (f.first == e.first) {
          EXPECT_FLOAT_EQ(f.second, e.second);
        }
      }
    }
  }
  EXPECT_GE(static_cast<double>(found) / static_cast<double>(wanted), 0.99) << found << " of " << wanted;
  EXPECT_TRUE(set.exact(std::vector<float>(7, 1.0f), 10).empty());  // wrong dimension: nothing
}
