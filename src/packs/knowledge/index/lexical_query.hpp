// How a user's search text becomes FTS5 queries.
//
// The words are taken as literal phrases (no FTS5 syntax gets through), common English stop-words
// are dropped unless nothing else is left, and duplicates go. A search then runs in two tiers:
//   1. chunks containing every word, ranked by BM25;
//   2. only when tier 1 cannot fill the page: chunks containing the query's rarer words (those
//      whose chunk counts add up to at most `kRareTermBudget`), ranked by BM25, after tier 1.
// Tier 1 is an intersection, so it costs about as much as the rarest word's posting list; tier 2
// is bounded by the budget. Ranking every chunk that shares any word with the query (the plain
// OR query) costs time in proportion to the commonest word's chunk count: 170 ms at p50 on the man
// page corpus, against about 2 ms for this plan (docs/benchmarks/knowledge.md).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mcpd::packs::knowledge {

// Tier 2 takes the rarest words while their chunk counts add up to at most this many.
constexpr std::int64_t kRareTermBudget = 4000;
// Words beyond this many distinct ones are ignored (a query is at most 2,000 characters).
constexpr std::size_t kMaxQueryTerms = 32;

struct LexicalQuery {
  std::vector<std::string> terms;  // distinct words, in query order
  bool every = true;               // true: all terms (AND); false: any term (OR)

  bool empty() const { return terms.empty(); }
  // The FTS5 expression: each term a quoted phrase, joined by AND or OR. Phrase i is terms[i].
  std::string expression() const;
};

// Letters, digits, '_' and any non-ASCII byte form words; everything else separates them.
LexicalQuery parse_lexical_query(std::string_view user_text);

// The same terms, any of them.
LexicalQuery any_of(const LexicalQuery& query);

// Tier 2: the rarest terms (by `counts`, parallel to query.terms) whose counts add up to at most
// `budget`, as an OR query in the original order; empty when even the rarest is over the budget.
LexicalQuery rarer_terms(const LexicalQuery& query, const std::vector<std::int64_t>& counts,
                         std::int64_t budget = kRareTermBudget);

bool is_stop_word(std::string_view lowercase_word);

}  // namespace mcpd::packs::knowledge
