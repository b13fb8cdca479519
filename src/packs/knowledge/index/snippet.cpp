// Snippeter implementation.
#include "packs/knowledge/index/snippet.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "packs/knowledge/index/fts_rank.hpp"

namespace mcpd::packs::knowledge {

namespace {

struct Tokens {
  std::vector<std::string> words;
  std::vector<std::pair<int, int>> spans;
};

int collect(void* ctx, int, const char* token, int n, int start, int end) {
  auto* t = static_cast<Tokens*>(ctx);
  t->words.emplace_back(token, static_cast<std::size_t>(n));
  t->spans.emplace_back(start, end);
  return SQLITE_OK;
}

}  // namespace

Snippeter::Snippeter(sqlite3* db) {
  fts5_api* api = fts5_of(db);
  void* user_data = nullptr;
  if (!api || api->xFindTokenizer(api, "porter", &user_data, &api_) != SQLITE_OK)
    throw std::runtime_error("this SQLite library has no FTS5 porter tokenizer");
  const char* args[] = {"unicode61"};  // as the index's tokenize='porter unicode61'
  if (api_.xCreate(user_data, args, 1, &tokenizer_) != SQLITE_OK)
    throw std::runtime_error("cannot create the FTS5 porter tokenizer");
}

Snippeter::~Snippeter() { api_.xDelete(tokenizer_); }

void Snippeter::tokenize(std::string_view text, int flags, void* into) {
  api_.xTokenize(tokenizer_, into, flags, text.data(), static_cast<int>(text.size()), collect);
}

std::vector<std::string> Snippeter::tokens(std::string_view text, bool query) {
  Tokens t;
  tokenize(text, query ? FTS5_TOKENIZE_QUERY : FTS5_TOKENIZE_DOCUMENT, &t);
  return std::move(t.words);
}

Snippet Snippeter::make(const std::vector<std::string>& words, std::string_view text, std::size_t window) {
  std::vector<std::string> wanted;
  for (const auto& w : words)
    for (auto& t : tokens(w, true)) wanted.push_back(std::move(t));
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());

  Tokens doc;
  tokenize(text, FTS5_TOKENIZE_DOCUMENT, &doc);
  const std::size_t n = doc.words.size();
  // For each token, the query word it matches (index into wanted), or -1.
  std::vector<int> match(n, -1);
  std::vector<std::size_t> hits;
  for (std::size_t i = 0; i < n; ++i) {
    auto it = std::lower_bound(wanted.begin(), wanted.end(), doc.words[i]);
    if (it != wanted.end() && *it == doc.words[i]) {
      match[i] = static_cast<int>(it - wanted.begin());
      hits.push_back(i);
    }
  }
  window = std::max<std::size_t>(window, 1);
  std::size_t first = 0, last = std::min(n, window);  // tokens [first, last)
  if (!hits.empty()) {
    // The window starting at a hit with the most distinct words, then the most hits; then moved
    // back so the hits it holds sit in its middle.
    std::size_t best_distinct = 0, best_count = 0, best = hits.front(), best_end = hits.front();
    for (std::size_t h = 0; h < hits.size(); ++h) {
      std::set<int> distinct;
      std::size_t count = 0, end = hits[h];
      for (std::size_t k = h; k < hits.size() && hits[k] < hits[h] + window; ++k) {
        distinct.insert(match[hits[k]]);
        ++count;
        end = hits[k];
      }
      if (distinct.size() > best_distinct || (distinct.size() == best_distinct && count > best_count)) {
        best_distinct = distinct.size();
        best_count = count;
        best = hits[h];
        best_end = end;
      }
    }
    std::size_t slack = window - (best_end - best + 1);
    first = best > slack / 2 ? best - slack / 2 : 0;
    last = std::min(n, first + window);
    if (last == n) first = n > window ? n - window : 0;
  }
  Snippet out;
  out.marked = !hits.empty();
  if (n == 0) {
    out.text = std::string(text.substr(0, std::min<std::size_t>(text.size(), 300)));
    return out;
  }
  std::size_t from = first == 0 ? 0 : static_cast<std::size_t>(doc.spans[first].first);
  std::size_t to = last == n ? text.size() : static_cast<std::size_t>(doc.spans[last - 1].second);
  if (first > 0) out.text += "…";
  std::size_t pos = from;
  for (std::size_t i = first; i < last; ++i) {
    if (match[i] < 0) continue;
    auto [s, e] = doc.spans[i];
    out.text.append(text.substr(pos, static_cast<std::size_t>(s) - pos));
    out.text += "**";
    out.text.append(text.substr(static_cast<std::size_t>(s), static_cast<std::size_t>(e - s)));
    out.text += "**";
    pos = static_cast<std::size_t>(e);
  }
  out.text.append(text.substr(pos, to - pos));
  if (last < n) out.text += "…";
  return out;
}

}  // namespace mcpd::packs::knowledge
