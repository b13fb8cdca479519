// kb_search_latency: search latency of the knowledge pack through MCP over HTTP, against the same
// queries run directly on the index's SQLite FTS5 tables (the floor).
//
//   kb_search_latency --url http://127.0.0.1:PORT/mcp --db INDEX.db --queries FILE
//                     [--limit 10] [--max-queries N] [--warmup N] [--naive N]
//                     [--max-seconds S] [--api-key K]
//
// 1. initialize (Mcp-Session-Id) and notifications/initialized on one keep-alive connection;
// 2. a warm-up pass: the first --warmup queries once through MCP and once on SQLite, not recorded;
// 3. the measured pass: per query, tools/call search_documents {"query": q, "limit": L} over the
//    same connection ("mcp"), and on a read-only SQLite connection with prepared statements the
//    statements the server runs for it: the chunk counts, the ranked tier(s), then the page's
//    snippets made by FTS5's snippet() ("fts5", the raw-FTS5 floor) or, in a separate run, by
//    mcpd's Snippeter ("in_process": mcpd's search engine without MCP, HTTP and JSON). With
//    --naive N, the first N queries also run as one plain FTS5 query (every word OR-ed, built-in
//    bm25(), a snippet for every row: "fts5_plain_or", how mcpd searched before the tiers).
//    The paths rotate their order from query to query.
// Every answer is checked: no MCP error, the same first hit and the same tier plan ("match") on
// both paths. Prints one JSON object: p50/p90/p99/mean/max per path (milliseconds) and the
// MCP/FTS5 ratios. Loopback only; every step is bounded in count and time.
#include "packs/knowledge/index/fts_rank.hpp"
#include "packs/knowledge/index/index_store.hpp"
#include "packs/knowledge/index/lexical_query.hpp"
#include "packs/knowledge/index/snippet.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void die(const std::string& msg) {
  std::cerr << "kb_search_latency: " << msg << "\n";
  std::exit(2);
}

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// ---- the index's queries, as the Searcher plans them and IndexStore runs them ----
//
// The same statements (IndexStore::search_sql/count_sql), the same query planning
// (lexical_query.hpp: parse_lexical_query, rarer_terms, any_of) and the same decisions as
// Searcher::lexical_search, on a plain read-only SQLite connection with mcpd_bm25 registered.
// Snippets for the page either as raw FTS5 makes them (snippet(), the floor) or as mcpd does
// (Snippeter over FTS5's tokenizer, the "in-process" path: mcpd's search without MCP and HTTP).

using mcpd::packs::knowledge::IndexStore;
using mcpd::packs::knowledge::LexicalQuery;

class RawIndex {
 public:
  explicit RawIndex(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
      die("cannot open " + path + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory"));
    sqlite3_busy_timeout(db_, 5000);
    // Memory-mapped reads, as IndexStore's connection has.
    if (sqlite3_exec(db_, "PRAGMA mmap_size = 268435456", nullptr, nullptr, nullptr) != SQLITE_OK)
      die(std::string("PRAGMA mmap_size: ") + sqlite3_errmsg(db_));
    mcpd::packs::knowledge::register_fts_rank(db_);
    search_ = prepare(IndexStore::search_sql(false));
    snippet_ = prepare(kSnippetSql);
    chunk_text_ = prepare("SELECT text FROM chunks WHERE id = ?1");
    snippeter_ = std::make_unique<mcpd::packs::knowledge::Snippeter>(db_);
    count_ = prepare(IndexStore::count_sql());
    naive_ = prepare(kNaiveSql);
  }
  ~RawIndex() {
    snippeter_.reset();
    for (auto* st : {search_, snippet_, chunk_text_, count_, naive_}) sqlite3_finalize(st);
    sqlite3_close_v2(db_);
  }

  struct Result {
    std::size_t rows = 0;    // hits on the page
    std::string first_path;  // of the first hit
    std::string match;       // the words each tier asked for, as the answer's "match" field
  };

  // `fts5_snippets`: snippet() for the page (raw FTS5); else mcpd's Snippeter.
  Result run(const std::string& text, std::size_t limit, bool fts5_snippets) {
    // The Searcher's defaults: one hit more than the page, to know whether there is a next page.
    const std::size_t needed = limit + 1, pool = needed * 4 + 8, per_doc = 3;
    LexicalQuery words = mcpd::packs::knowledge::parse_lexical_query(text);
    LexicalQuery all;
    std::vector<std::int64_t> all_counts;
    for (const auto& t : words.terms)
      if (auto n = count(t); n > 0) {
        all.terms.push_back(t);
        all_counts.push_back(n);
      }
    json::object match{{"all", to_json(all.terms)}};
    std::vector<Row> hits;
    if (!all.empty()) hits = rank(all, all_counts, pool);
    if (!all.empty() && hits.size() < pool && all.terms.size() >= 2 && capped(hits, per_doc, pool).size() < needed) {
      LexicalQuery rare = mcpd::packs::knowledge::rarer_terms(all, all_counts);
      if (rare.empty() && hits.empty()) {
        auto rarest = std::min_element(all_counts.begin(), all_counts.end()) - all_counts.begin();
        rare.terms = {all.terms[static_cast<std::size_t>(rarest)]};
      }
      if (!rare.empty()) {
        match["any"] = to_json(rare.terms);
        std::vector<std::int64_t> rare_counts;
        for (const auto& t : rare.terms) rare_counts.push_back(count(t));
        for (auto& h : rank(rare, rare_counts, pool + hits.size()))
          if (hits.size() < pool && std::none_of(hits.begin(), hits.end(), [&](const Row& x) { return x.chunk == h.chunk; }))
            hits.push_back(std::move(h));
      }
    }
    auto page = capped(hits, per_doc, limit);
    const std::string snippet_expression = mcpd::packs::knowledge::any_of(words).expression();
    for (const auto& h : page) {
      sqlite3_stmt* st = fts5_snippets ? snippet_ : chunk_text_;
      if (fts5_snippets) bind_text(snippet_, 1, snippet_expression);
      sqlite3_bind_int64(st, fts5_snippets ? 2 : 1, h.chunk);
      if (sqlite3_step(st) == SQLITE_ROW) {
        std::string_view column(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                                static_cast<std::size_t>(sqlite3_column_bytes(st, 0)));
        if (!fts5_snippets) (void)snippeter_->make(words.terms, column);
      }
      sqlite3_reset(st);
    }
    Result r;
    r.rows = page.size();
    if (!page.empty()) r.first_path = page.front().path;
    r.match = json::serialize(match);
    return r;
  }

  // The plain FTS5 way (mcpd before the tiers): every word OR-ed, the built-in bm25() ranking
  // every row that has any word, snippets made for all of them. For comparison only.
  std::size_t run_naive(const std::string& text, std::size_t limit) {
    std::string expression = mcpd::packs::knowledge::any_of(mcpd::packs::knowledge::parse_lexical_query(text)).expression();
    bind_text(naive_, 1, expression);
    sqlite3_bind_int64(naive_, 2, static_cast<std::int64_t>(limit * 4 + 8));
    std::size_t rows = 0;
    while (sqlite3_step(naive_) == SQLITE_ROW) {
      (void)sqlite3_column_bytes(naive_, 2);
      ++rows;
    }
    sqlite3_reset(naive_);
    return rows;
  }

 private:
  // Raw FTS5's way to the snippet of one hit.
  static constexpr const char* kSnippetSql =
      "SELECT snippet(chunks_fts, 2, '**', '**', '…', 24) FROM chunks_fts WHERE chunks_fts MATCH ?1 AND rowid = ?2";
  static constexpr const char* kNaiveSql =
      "SELECT c.id, d.path, snippet(chunks_fts, 2, '**', '**', '…', 24), bm25(chunks_fts, 4.0, 2.0, 1.0) "
      "FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid JOIN documents d ON d.id = c.document_id "
      "WHERE chunks_fts MATCH ?1 ORDER BY bm25(chunks_fts, 4.0, 2.0, 1.0) LIMIT ?2";

  struct Row {
    std::int64_t chunk = 0, document = 0;
    std::string path;
  };

  static json::array to_json(const std::vector<std::string>& terms) {
    json::array out;
    for (const auto& t : terms) out.emplace_back(t);
    return out;
  }

  static std::vector<Row> capped(const std::vector<Row>& hits, std::size_t per_doc, std::size_t limit) {
    std::map<std::int64_t, std::size_t> seen;
    std::vector<Row> out;
    for (const auto& h : hits)
      if (++seen[h.document] <= per_doc && out.size() < limit) out.push_back(h);
    return out;
  }

  void bind_text(sqlite3_stmt* st, int i, const std::string& s) {
    sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }

  std::int64_t count(const std::string& term) {
    std::string key = term;
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto it = counts_.find(key); it != counts_.end()) return it->second;
    std::string phrase = '"' + term;
    phrase.push_back('"');
    bind_text(count_, 1, phrase);
    std::int64_t n = sqlite3_step(count_) == SQLITE_ROW ? sqlite3_column_int64(count_, 0) : 0;
    sqlite3_reset(count_);
    counts_[key] = n;
    return n;
  }

  std::vector<Row> rank(const LexicalQuery& q, const std::vector<std::int64_t>& counts, std::size_t limit) {
    std::string frequencies = mcpd::packs::knowledge::encode_frequencies(counts);
    bind_text(search_, 5, q.expression());
    sqlite3_bind_blob(search_, 6, frequencies.data(), static_cast<int>(frequencies.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(search_, 7, static_cast<std::int64_t>(limit));
    sqlite3_bind_int64(search_, 8, 0);
    std::vector<Row> out;
    int rc;
    while ((rc = sqlite3_step(search_)) == SQLITE_ROW) {
      // Every column read, as the store does.
      Row r{sqlite3_column_int64(search_, 0), sqlite3_column_int64(search_, 1), {}};
      for (int c : {2, 3, 4, 5, 8, 9, 10}) {
        auto p = sqlite3_column_text(search_, c);
        auto n = sqlite3_column_bytes(search_, c);
        if (c == 3 && p) r.path.assign(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
      }
      (void)sqlite3_column_int64(search_, 6);
      (void)sqlite3_column_int64(search_, 7);
      (void)sqlite3_column_double(search_, 11);
      out.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) die(std::string("SQLite step: ") + sqlite3_errmsg(db_));
    sqlite3_reset(search_);
    return out;
  }

  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK)
      die(std::string("cannot prepare the search SQL (has the schema changed?): ") + sqlite3_errmsg(db_));
    return st;
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt *search_ = nullptr, *snippet_ = nullptr, *chunk_text_ = nullptr, *count_ = nullptr, *naive_ = nullptr;
  std::unique_ptr<mcpd::packs::knowledge::Snippeter> snippeter_;
  std::map<std::string, std::int64_t> counts_;
};

// ---- a minimal HTTP/1.1 keep-alive client ----

struct Response {
  int status = 0;
  std::string content_type, session_id, body;
};

class HttpClient {
 public:
  HttpClient(const std::string& host, int port, int timeout_seconds) : host_(host), port_(port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res)
      die("cannot resolve " + host);
    fd_ = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0 || ::connect(fd_, res->ai_addr, res->ai_addrlen) != 0) {
      freeaddrinfo(res);
      die("cannot connect to " + host + ":" + std::to_string(port) + ": " + std::strerror(errno));
    }
    freeaddrinfo(res);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{timeout_seconds, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  ~HttpClient() {
    if (fd_ >= 0) ::close(fd_);
  }

  Response post(const std::string& path, const std::string& body, const std::vector<std::string>& headers) {
    std::string req = "POST " + path + " HTTP/1.1\r\nHost: " + host_ + ":" + std::to_string(port_) +
                      "\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
                      "Connection: keep-alive\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    for (const auto& h : headers) req += h + "\r\n";
    req += "\r\n";
    req += body;
    send_all(req);
    return read_response();
  }

 private:
  void send_all(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) die(std::string("send: ") + std::strerror(errno));
      off += static_cast<std::size_t>(n);
    }
  }

  void fill() {
    char tmp[65536];
    for (;;) {
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) die(std::string("recv: ") + std::strerror(errno) + " (timeout?)");
      if (n == 0) die("the server closed the connection");
      buf_.append(tmp, static_cast<std::size_t>(n));
      return;
    }
  }

  std::string take_line() {  // up to CRLF, from the buffer
    std::size_t p;
    while ((p = buf_.find("\r\n")) == std::string::npos) fill();
    std::string line = buf_.substr(0, p);
    buf_.erase(0, p + 2);
    return line;
  }

  std::string take(std::size_t n) {
    while (buf_.size() < n) fill();
    std::string out = buf_.substr(0, n);
    buf_.erase(0, n);
    return out;
  }

  Response read_response() {
    Response r;
    std::string status = take_line();
    if (status.size() < 12 || status.compare(0, 5, "HTTP/") != 0) die("bad status line: " + status);
    r.status = std::atoi(status.c_str() + 9);
    std::optional<std::size_t> length;
    bool chunked = false;
    for (;;) {
      std::string h = take_line();
      if (h.empty()) break;
      auto colon = h.find(':');
      if (colon == std::string::npos) continue;
      std::string name = h.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = h.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      if (name == "content-length") length = std::stoull(value);
      else if (name == "transfer-encoding" && value.find("chunked") != std::string::npos) chunked = true;
      else if (name == "content-type") r.content_type = value;
      else if (name == "mcp-session-id") r.session_id = value;
    }
    if (length) {
      r.body = take(*length);
    } else if (chunked) {
      for (;;) {
        std::size_t n = std::stoull(take_line(), nullptr, 16);
        if (n == 0) {
          while (!take_line().empty()) {
          }
          break;
        }
        r.body += take(n);
        take_line();
      }
    } else if (r.status != 202 && r.status != 204) {
      die("response without a length (HTTP " + std::to_string(r.status) + ")");
    }
    return r;
  }

  std::string host_;
  int port_;
  int fd_ = -1;
  std::string buf_;
};

// The JSON-RPC message in a response body: plain JSON, or the last "data:" event of an SSE body.
json::value rpc_message(const Response& r) {
  if (r.content_type.find("text/event-stream") != std::string::npos) {
    json::value last;
    std::size_t pos = 0;
    while (pos < r.body.size()) {
      auto eol = r.body.find('\n', pos);
      if (eol == std::string::npos) eol = r.body.size();
      std::string_view line(r.body.data() + pos, eol - pos);
      if (line.starts_with("data:")) {
        line.remove_prefix(5);
        boost::system::error_code ec;
        auto v = json::parse(line, ec);
        if (!ec && v.is_object() && v.as_object().contains("id")) last = v;
      }
      pos = eol + 1;
    }
    return last;
  }
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec) die("response is not JSON: " + r.body.substr(0, 200));
  return v;
}

struct Stats {
  std::vector<double> ms;

  static double pct(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return 0;
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    return sorted[std::min(sorted.size(), std::max<std::size_t>(rank, 1)) - 1];
  }

  json::object summary() const {
    std::vector<double> s = ms;
    std::sort(s.begin(), s.end());
    double sum = 0;
    for (double v : s) sum += v;
    auto r3 = [](double v) { return std::round(v * 1000.0) / 1000.0; };
    return json::object{{"count", s.size()},
                        {"p50_ms", r3(pct(s, 0.50))},
                        {"p90_ms", r3(pct(s, 0.90))},
                        {"p99_ms", r3(pct(s, 0.99))},
                        {"mean_ms", r3(s.empty() ? 0 : sum / static_cast<double>(s.size()))},
                        {"max_ms", r3(s.empty() ? 0 : s.back())}};
  }
  double p(double q) const {
    std::vector<double> s = ms;
    std::sort(s.begin(), s.end());
    return pct(s, q);
  }
};

void usage() {
  std::cerr << "usage: kb_search_latency --url http://127.0.0.1:PORT/mcp --db INDEX.db --queries FILE\n"
               "                         [--limit 10] [--max-queries 5000] [--max-seconds 600] [--api-key KEY]\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, db_path, queries_path, api_key;
  long limit = 10, max_queries = 5000, max_seconds = 900, warmup = 100;
  long naive = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--url") url = next();
    else if (a == "--db") db_path = next();
    else if (a == "--queries") queries_path = next();
    else if (a == "--api-key") api_key = next();
    else if (a == "--limit") limit = std::stol(next());
    else if (a == "--max-queries") max_queries = std::stol(next());
    else if (a == "--max-seconds") max_seconds = std::stol(next());
    else if (a == "--warmup") warmup = std::stol(next());
    else if (a == "--naive") naive = std::stol(next());
    else usage();
  }
  if (url.empty() || db_path.empty() || queries_path.empty()) usage();
  if (limit < 1 || limit > 100 || max_queries < 1 || max_queries > 100000 || max_seconds < 1 || max_seconds > 3600 ||
      warmup < 0 || warmup > 100000 || naive < 0 || naive > 100000)
    die("--limit 1..100, --max-queries 1..100000, --warmup 0..100000, --naive 0..100000, --max-seconds 1..3600");

  // http://HOST:PORT/PATH, loopback only.
  const std::string prefix = "http://";
  if (url.compare(0, prefix.size(), prefix) != 0) die("--url must be http://");
  std::string rest = url.substr(prefix.size());
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash), path = slash == std::string::npos ? "/mcp" : rest.substr(slash);
  auto colon = hostport.rfind(':');
  if (colon == std::string::npos) die("--url needs a port");
  std::string host = hostport.substr(0, colon);
  int port = std::stoi(hostport.substr(colon + 1));
  if (host != "127.0.0.1" && host != "localhost" && host != "[::1]") die("--url must be a loopback address");
  if (host == "[::1]") host = "::1";

  std::vector<std::string> queries;
  {
    std::ifstream in(queries_path);
    if (!in) die("cannot read " + queries_path);
    std::string line;
    while (std::getline(in, line) && static_cast<long>(queries.size()) < max_queries)
      if (!mcpd::packs::knowledge::parse_lexical_query(line).empty() && line.size() <= 2000) queries.push_back(line);
  }
  if (queries.empty()) die("no usable queries in " + queries_path);

  const auto started = Clock::now();
  const auto deadline = started + std::chrono::seconds(max_seconds);
  HttpClient http(host, port, 30);
  std::vector<std::string> headers;
  if (!api_key.empty()) headers.push_back("Authorization: Bearer " + api_key);

  // initialize, then notifications/initialized.
  json::object init{{"jsonrpc", "2.0"},
                    {"id", 0},
                    {"method", "initialize"},
                    {"params", json::object{{"protocolVersion", "2025-11-25"},
                                            {"capabilities", json::object{}},
                                            {"clientInfo", json::object{{"name", "kb_search_latency"}, {"version", "1"}}}}}};
  Response r = http.post(path, json::serialize(init), headers);
  if (r.status != 200 || r.session_id.empty()) die("initialize failed: HTTP " + std::to_string(r.status) + " " + r.body);
  headers.push_back("Mcp-Session-Id: " + r.session_id);
  headers.push_back("MCP-Protocol-Version: 2025-11-25");
  r = http.post(path, R"({"jsonrpc":"2.0","method":"notifications/initialized"})", headers);
  if (r.status != 202 && r.status != 200) die("notifications/initialized: HTTP " + std::to_string(r.status));

  // One connection per path, so that no path runs on SQLite caches another path just warmed for
  // the same query (the server has its own connection too).
  RawIndex raw(db_path), engine(db_path), plain(db_path);
  std::int64_t next_id = 1;
  std::size_t mcp_errors = 0, mcp_empty = 0, raw_empty = 0, first_hit_mismatch = 0;

  struct McpAnswer {
    std::size_t count = 0;
    std::string first_path, match;
  };
  auto mcp_call = [&](const std::string& q, bool record, McpAnswer& answer) -> double {
    json::object call{{"jsonrpc", "2.0"},
                      {"id", next_id++},
                      {"method", "tools/call"},
                      {"params", json::object{{"name", "search_documents"},
                                              {"arguments", json::object{{"query", q}, {"limit", limit}}}}}};
    std::string body = json::serialize(call);
    auto t0 = Clock::now();
    Response resp = http.post(path, body, headers);
    double ms = ms_since(t0);
    if (!record) return ms;
    json::value msg = rpc_message(resp);
    const json::object* result = nullptr;
    if (resp.status == 200 && msg.is_object())
      if (auto* res = msg.as_object().if_contains("result"); res && res->is_object()) result = &res->as_object();
    if (!result || (result->contains("isError") && result->at("isError").as_bool())) {
      if (++mcp_errors <= 3) std::cerr << "kb_search_latency: error for \"" << q << "\": " << resp.body.substr(0, 300) << "\n";
      return ms;
    }
    if (auto* sc = result->if_contains("structuredContent"); sc && sc->is_object()) {
      const auto& results = sc->as_object().at("results").as_array();
      answer.count = results.size();
      if (!results.empty()) answer.first_path = std::string(results[0].as_object().at("path").as_string());
      if (auto* m = sc->as_object().if_contains("match")) answer.match = json::serialize(*m);
    }
    return ms;
  };

  // Warm-up: the page caches of both connections and of the OS.
  for (std::size_t i = 0; i < queries.size() && static_cast<long>(i) < warmup; ++i) {
    const auto& q = queries[i];
    if (Clock::now() > deadline) break;
    McpAnswer a;
    mcp_call(q, false, a);
    raw.run(q, static_cast<std::size_t>(limit), true);
    engine.run(q, static_cast<std::size_t>(limit), false);
  }

  Stats mcp, floor_stats, engine_stats, naive_stats;
  std::size_t match_mismatch = 0;
  std::size_t done = 0;
  bool truncated = false;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    if (Clock::now() > deadline) {
      truncated = true;
      break;
    }
    const std::string& q = queries[i];
    McpAnswer answer;
    RawIndex::Result floor_result;
    // Alternate the order, so that neither path always runs on a cache the other just warmed.
    const std::size_t paths = static_cast<long>(i) < naive ? 4 : 3;
    for (std::size_t k = 0; k < paths; ++k) {
      switch ((i + k) % paths) {
        case 0:
          mcp.ms.push_back(mcp_call(q, true, answer));
          break;
        case 1: {
          auto t0 = Clock::now();
          floor_result = raw.run(q, static_cast<std::size_t>(limit), true);
          floor_stats.ms.push_back(ms_since(t0));
          break;
        }
        case 2: {
          auto t0 = Clock::now();
          engine.run(q, static_cast<std::size_t>(limit), false);
          engine_stats.ms.push_back(ms_since(t0));
          break;
        }
        case 3: {
          auto t0 = Clock::now();
          plain.run_naive(q, static_cast<std::size_t>(limit));
          naive_stats.ms.push_back(ms_since(t0));
          break;
        }
      }
    }
    if (answer.count == 0) ++mcp_empty;
    if (floor_result.rows == 0) ++raw_empty;
    if (answer.first_path != floor_result.first_path) ++first_hit_mismatch;
    if (answer.match != floor_result.match && ++match_mismatch <= 3)
      std::cerr << "kb_search_latency: the server planned \"" << q << "\" as " << answer.match << ", the driver as "
                << floor_result.match << "\n";
    ++done;
  }

  const double p50_ratio = floor_stats.p(0.5) > 0 ? mcp.p(0.5) / floor_stats.p(0.5) : 0;
  const double p99_ratio = floor_stats.p(0.99) > 0 ? mcp.p(0.99) / floor_stats.p(0.99) : 0;
  auto r3 = [](double v) { return std::round(v * 1000.0) / 1000.0; };
  json::object out{{"queries", done},
                   {"limit", limit},
                   {"truncated", truncated},
                   {"mcp", mcp.summary()},
                   {"fts5", floor_stats.summary()},
                   {"in_process", engine_stats.summary()},
                   {"ratio_p50", r3(p50_ratio)},
                   {"ratio_p99", r3(p99_ratio)},
                   {"ratio_p50_in_process", r3(engine_stats.p(0.5) > 0 ? mcp.p(0.5) / engine_stats.p(0.5) : 0)},
                   {"mcp_errors", mcp_errors},
                   {"mcp_empty", mcp_empty},
                   {"fts5_empty", raw_empty},
                   {"first_hit_mismatch", first_hit_mismatch},
                   {"plan_mismatch", match_mismatch}};
  if (!naive_stats.ms.empty()) out["fts5_plain_or"] = naive_stats.summary();
  out["warmup"] = std::min<long>(warmup, static_cast<long>(queries.size()));
  out["seconds"] = r3(std::chrono::duration<double>(Clock::now() - started).count());
  std::cout << json::serialize(out) << "\n";
  return mcp_errors == 0 ? 0 : 1;
}
