// Search snippets made with FTS5's own tokenizer ('porter unicode61', as the index uses), so the
// words marked in a passage are exactly those the full-text index matched: "directories" is
// marked for the query word "directory".
//
// FTS5's snippet() does the same inside SQLite but needs the MATCH expression re-run and
// positioned on each row; for a page of 10 hits that was 1-6 ms of a 4 ms search on the man page
// corpus. This tokenizes each shown chunk once (microseconds).
#pragma once
#include <sqlite3.h>

#include <string>
#include <string_view>
#include <vector>

namespace mcpd::packs::knowledge {

struct Snippet {
  std::string text;     // the passage, matched words marked **like this**, "…" where it was cut
  bool marked = false;  // at least one query word occurs in it
};

class Snippeter {
 public:
  // Uses the tokenizer registered on `db` (FTS5's "porter" over "unicode61"). Not thread-safe:
  // one caller at a time.
  explicit Snippeter(sqlite3* db);
  ~Snippeter();
  Snippeter(const Snippeter&) = delete;
  Snippeter& operator=(const Snippeter&) = delete;

  // The window of about `window` tokens of `text` holding the most distinct query words (then the
  // most matches); the start of the text, unmarked, when no query word occurs.
  Snippet make(const std::vector<std::string>& words, std::string_view text, std::size_t window = 24);

  // The index tokens of `text`, as a MATCH query would produce them (lower-cased, stemmed).
  std::vector<std::string> tokens(std::string_view text, bool query);

 private:
  void tokenize(std::string_view text, int flags, void* into);

  fts5_tokenizer api_{};
  Fts5Tokenizer* tokenizer_ = nullptr;
};

}  // namespace mcpd::packs::knowledge
