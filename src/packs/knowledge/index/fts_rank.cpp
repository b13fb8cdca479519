// mcpd_bm25, an FTS5 auxiliary function (https://sqlite.org/fts5.html#custom_auxiliary_functions).
#include "packs/knowledge/index/fts_rank.hpp"

#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace mcpd::packs::knowledge {

namespace {

constexpr double kK1 = 1.2;
constexpr double kB = 0.75;

// Per-query data, computed at the first row and kept with the query (xSetAuxdata).
struct QueryData {
  double average_length = 1;
  std::vector<double> idf;
  std::vector<double> frequency;  // per-row scratch
};

int count_row(const Fts5ExtensionApi*, Fts5Context*, void* user) {
  ++*static_cast<std::int64_t*>(user);
  return SQLITE_OK;
}

QueryData* query_data(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_value* frequencies, int& rc) {
  if (auto* cached = static_cast<QueryData*>(api->xGetAuxdata(fts, 0))) return cached;
  auto data = std::make_unique<QueryData>();
  int phrases = api->xPhraseCount(fts);
  sqlite3_int64 rows = 0, tokens = 0;
  if ((rc = api->xRowCount(fts, &rows)) != SQLITE_OK) return nullptr;
  if ((rc = api->xColumnTotalSize(fts, -1, &tokens)) != SQLITE_OK) return nullptr;
  data->average_length = rows > 0 ? static_cast<double>(tokens) / static_cast<double>(rows) : 1.0;
  const bool given = sqlite3_value_type(frequencies) == SQLITE_BLOB &&
                     sqlite3_value_bytes(frequencies) == phrases * static_cast<int>(sizeof(std::int64_t));
  const auto* blob = given ? static_cast<const unsigned char*>(sqlite3_value_blob(frequencies)) : nullptr;
  data->idf.resize(static_cast<std::size_t>(phrases));
  data->frequency.resize(static_cast<std::size_t>(phrases));
  for (int i = 0; i < phrases; ++i) {
    std::int64_t hits = 0;
    if (blob) {
      std::uint64_t v = 0;
      for (int b = 7; b >= 0; --b) v = (v << 8) | blob[i * 8 + b];
      hits = static_cast<std::int64_t>(v);
    } else if ((rc = api->xQueryPhrase(fts, i, &hits, count_row)) != SQLITE_OK) {
      return nullptr;
    }
    double idf = std::log((static_cast<double>(rows) - static_cast<double>(hits) + 0.5) / (static_cast<double>(hits) + 0.5));
    data->idf[static_cast<std::size_t>(i)] = idf <= 0.0 ? 1e-6 : idf;
  }
  auto* raw = data.release();
  if ((rc = api->xSetAuxdata(fts, raw, [](void* p) { delete static_cast<QueryData*>(p); })) != SQLITE_OK) return nullptr;
  return raw;
}

void mcpd_bm25(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (argc < 1) {
    sqlite3_result_error(ctx, "mcpd_bm25: the first argument (frequencies) is missing", -1);
    return;
  }
  int rc = SQLITE_OK;
  QueryData* data = query_data(api, fts, argv[0], rc);
  if (!data) {
    sqlite3_result_error_code(ctx, rc == SQLITE_OK ? SQLITE_ERROR : rc);
    return;
  }
  std::fill(data->frequency.begin(), data->frequency.end(), 0.0);
  int instances = 0;
  if ((rc = api->xInstCount(fts, &instances)) != SQLITE_OK) return sqlite3_result_error_code(ctx, rc);
  for (int i = 0; i < instances; ++i) {
    int phrase = 0, column = 0, offset = 0;
    if ((rc = api->xInst(fts, i, &phrase, &column, &offset)) != SQLITE_OK) return sqlite3_result_error_code(ctx, rc);
    double weight = column + 1 < argc ? sqlite3_value_double(argv[column + 1]) : 1.0;
    data->frequency[static_cast<std::size_t>(phrase)] += weight;
  }
  int length = 0;
  if ((rc = api->xColumnSize(fts, -1, &length)) != SQLITE_OK) return sqlite3_result_error_code(ctx, rc);
  const double norm = kK1 * (1 - kB + kB * static_cast<double>(length) / data->average_length);
  double score = 0;
  for (std::size_t i = 0; i < data->idf.size(); ++i) {
    double f = data->frequency[i];
    score += data->idf[i] * (f * (kK1 + 1.0)) / (f + norm);
  }
  sqlite3_result_double(ctx, -score);
}

}  // namespace

fts5_api* fts5_of(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, nullptr) == SQLITE_OK) {
    sqlite3_bind_pointer(st, 1, &api, "fts5_api_ptr", nullptr);
    sqlite3_step(st);
  }
  sqlite3_finalize(st);
  return api;
}

void register_fts_rank(sqlite3* db) {
  fts5_api* api = fts5_of(db);
  if (!api || api->iVersion < 2) throw std::runtime_error("this SQLite library has no FTS5 (needed for the knowledge index)");
  if (api->xCreateFunction(api, "mcpd_bm25", nullptr, mcpd_bm25, nullptr) != SQLITE_OK)
    throw std::runtime_error(std::string("cannot register mcpd_bm25: ") + sqlite3_errmsg(db));
}

std::string encode_frequencies(const std::vector<std::int64_t>& counts) {
  std::string out(counts.size() * 8, '\0');
  for (std::size_t i = 0; i < counts.size(); ++i) {
    auto v = static_cast<std::uint64_t>(counts[i]);
    for (int b = 0; b < 8; ++b) out[i * 8 + static_cast<std::size_t>(b)] = static_cast<char>((v >> (8 * b)) & 0xff);
  }
  return out;
}

}  // namespace mcpd::packs::knowledge
