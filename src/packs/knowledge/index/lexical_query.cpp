// LexicalQuery implementation.
#include "packs/knowledge/index/lexical_query.hpp"

#include <algorithm>
#include <array>
#include <numeric>

namespace mcpd::packs::knowledge {

namespace {

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

bool is_stop_word(std::string_view w) {
  // The classic short English list (articles, auxiliaries, prepositions, conjunctions): words that
  // occur in most chunks and carry no topic.
  static constexpr std::array<std::string_view, 40> kStop = {
      "a",    "an",   "and",  "are",   "as",   "at",    "be",   "been", "but",  "by",
      "can",  "do",   "does", "for",   "from", "has",   "have", "how",  "i",    "if",
      "in",   "into", "is",   "it",    "its",  "not",   "of",   "on",   "or",   "so",
      "that", "the",  "then", "these", "this", "those", "to",   "was",  "were", "with"};
  return std::find(kStop.begin(), kStop.end(), w) != kStop.end();
}

std::string LexicalQuery::expression() const {
  std::string out;
  for (const auto& t : terms) {
    if (!out.empty()) out += every ? " AND " : " OR ";
    out += '"' + t + '"';  // a term holds no '"' (see parse_lexical_query)
  }
  return out;
}

LexicalQuery parse_lexical_query(std::string_view user_text) {
  std::vector<std::string> words, keys;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    std::string key = lower_ascii(word);
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      keys.push_back(key);
      words.push_back(word);
    }
    word.clear();
  };
  for (unsigned char c : user_text) {
    if (std::isalnum(c) || c >= 0x80 || c == '_') word.push_back(static_cast<char>(c));
    else flush();
  }
  flush();
  LexicalQuery q;
  for (std::size_t i = 0; i < words.size() && q.terms.size() < kMaxQueryTerms; ++i)
    if (!is_stop_word(keys[i])) q.terms.push_back(words[i]);
  if (q.terms.empty())  // only stop-words: search for them after all
    for (std::size_t i = 0; i < words.size() && q.terms.size() < kMaxQueryTerms; ++i) q.terms.push_back(words[i]);
  return q;
}

LexicalQuery any_of(const LexicalQuery& query) {
  LexicalQuery q = query;
  q.every = false;
  return q;
}

LexicalQuery rarer_terms(const LexicalQuery& query, const std::vector<std::int64_t>& counts, std::int64_t budget) {
  std::vector<std::size_t> order(query.terms.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return counts.at(a) < counts.at(b); });
  std::vector<bool> take(query.terms.size(), false);
  std::int64_t sum = 0;
  for (auto i : order) {
    if (sum + counts.at(i) > budget) break;
    sum += counts.at(i);
    take[i] = true;
  }
  LexicalQuery q;
  q.every = false;
  for (std::size_t i = 0; i < query.terms.size(); ++i)
    if (take[i]) q.terms.push_back(query.terms[i]);
  return q;
}

}  // namespace mcpd::packs::knowledge
