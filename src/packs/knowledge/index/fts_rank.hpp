// mcpd_bm25: FTS5's BM25 ranking with the document frequencies supplied by the caller.
//
// FTS5's built-in bm25() counts, on every query, how many rows contain each phrase: it reads each
// phrase's whole doclist before ranking the first row. For a word found in half the corpus that
// count costs more than the rest of the query. mcpd_bm25 computes the same score (k1 = 1.2,
// b = 0.75, per-column weights, IDF floored at 1e-6) but takes the per-phrase row counts as an
// argument, so the index can count each word once and keep the count until the index changes:
//
//   mcpd_bm25(fts_table, frequencies, weight_col0, weight_col1, ...)
//
// `frequencies` is a blob of one little-endian int64 per phrase of the MATCH expression, in order
// (encode_frequencies); NULL or a blob of the wrong size makes it count them itself, as bm25() does.
// Like bm25(), smaller (more negative) is better.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mcpd::packs::knowledge {

// Registers mcpd_bm25 on this connection (FTS5 auxiliary functions are per connection). Throws
// std::runtime_error when the SQLite library has no FTS5.
void register_fts_rank(sqlite3* db);

// The connection's FTS5 API (null when SQLite was built without FTS5).
fts5_api* fts5_of(sqlite3* db);

std::string encode_frequencies(const std::vector<std::int64_t>& counts);

}  // namespace mcpd::packs::knowledge
