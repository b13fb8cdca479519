// kb_search_latency: search latency of the knowledge pack through MCP over HTTP, against the same
// queries run directly on the index's SQLite FTS5 tables (the floor).
//
//   kb_search_latency --url http://127.0.0.1:PORT/mcp --db INDEX.db --queries FILE
//                     [--limit 10] [--max-queries N] [--warmup N] [--prepare-each]
//                     [--max-seconds S] [--api-key K]
//
// 1. initialize (Mcp-Session-Id) and notifications/initialized on one keep-alive connection;
// 2. a warm-up pass: the first --warmup queries once through MCP and once on SQLite, not recorded;
// 3. the measured pass: per query, tools/call search_documents {"query": q, "limit": L} over the
//    same connection, and the exact SELECT that IndexStore::search runs (same FTS5 expression, same
//    bm25/snippet columns and joins, LIMIT 4*L+8 as the Searcher's pool) with a statement prepared
//    up front ("fts5", the floor); with --prepare-each also preparing it per query as IndexStore
//    does ("fts5_prepare_each"). The paths alternate their order from query to query.
// Prints one JSON object: p50/p90/p99/mean/max per path (milliseconds) and the MCP/FTS5 ratios.
// Loopback only; every step is bounded in count and time.
#include "packs/knowledge/index_store.hpp"

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

// ---- the index's query, as IndexStore builds and runs it (src/packs/knowledge/index_store.cpp) ----

// The FTS5 expression exactly as the index builds it.
std::string fts_query(std::string_view user_text) { return mcpd::packs::knowledge::IndexStore::fts_query(user_text); }

// IndexStore::search's statement, with kFilterSql; ?1..?4 are the (empty) filters.
constexpr const char* kSearchSql =
    "SELECT c.id, d.id, d.source, d.path, d.title, c.heading, c.line_start, c.line_end, "
    "snippet(chunks_fts, 2, '**', '**', '…', 24), d.indexed_at, d.revision, bm25(chunks_fts, 4.0, 2.0, 1.0) "
    "FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid JOIN documents d ON d.id = c.document_id "
    "WHERE chunks_fts MATCH ?5 AND "
    "(?1 = '' OR d.source = ?1) AND (?2 = '' OR substr(d.path, 1, length(?2)) = ?2) "
    "AND (?3 = '' OR d.kind = ?3 OR d.path LIKE '%.' || ?3) AND (?4 = '' OR d.indexed_at >= ?4)"
    " ORDER BY bm25(chunks_fts, 4.0, 2.0, 1.0) LIMIT ?6 OFFSET ?7";

class RawIndex {
 public:
  explicit RawIndex(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
      die("cannot open " + path + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory"));
    sqlite3_busy_timeout(db_, 5000);
    prepared_ = prepare();
  }
  ~RawIndex() {
    sqlite3_finalize(prepared_);
    sqlite3_close_v2(db_);
  }

  struct Result {
    std::size_t rows = 0;
    std::string first_path;
  };

  // `fresh`: prepare the statement for this query (as IndexStore::search does) instead of reusing it.
  Result run(const std::string& fts, std::int64_t pool, bool fresh) {
    sqlite3_stmt* st = fresh ? prepare() : prepared_;
    for (int i = 1; i <= 4; ++i) sqlite3_bind_text(st, i, "", 0, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, fts.data(), static_cast<int>(fts.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, pool);
    sqlite3_bind_int64(st, 7, 0);
    Result r;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      // Read every column as the store does, so the snippet and the texts are really produced.
      for (int c : {2, 3, 4, 5, 8, 9, 10}) {
        auto p = sqlite3_column_text(st, c);
        auto n = sqlite3_column_bytes(st, c);
        if (c == 3 && r.rows == 0 && p) r.first_path.assign(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
      }
      (void)sqlite3_column_int64(st, 0);
      (void)sqlite3_column_int64(st, 1);
      (void)sqlite3_column_int64(st, 6);
      (void)sqlite3_column_int64(st, 7);
      (void)sqlite3_column_double(st, 11);
      ++r.rows;
    }
    if (rc != SQLITE_DONE) die(std::string("SQLite step: ") + sqlite3_errmsg(db_));
    if (fresh) {
      sqlite3_finalize(st);
    } else {
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
    }
    return r;
  }

 private:
  sqlite3_stmt* prepare() {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v3(db_, kSearchSql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK)
      die(std::string("cannot prepare the search SQL (has the schema changed?): ") + sqlite3_errmsg(db_));
    return st;
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* prepared_ = nullptr;
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
  bool prepare_each = false;
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
    else if (a == "--prepare-each") prepare_each = true;
    else usage();
  }
  if (url.empty() || db_path.empty() || queries_path.empty()) usage();
  if (limit < 1 || limit > 100 || max_queries < 1 || max_queries > 100000 || max_seconds < 1 || max_seconds > 3600 ||
      warmup < 0 || warmup > 100000)
    die("--limit 1..100, --max-queries 1..100000, --warmup 0..100000, --max-seconds 1..3600");

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
      if (!fts_query(line).empty() && line.size() <= 2000) queries.push_back(line);
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

  RawIndex raw(db_path);
  const std::int64_t pool = limit * 4 + 8;  // Searcher::search: (offset + limit) * 4 + 8
  std::int64_t next_id = 1;
  std::size_t mcp_errors = 0, mcp_empty = 0, raw_empty = 0, first_hit_mismatch = 0;

  struct McpAnswer {
    std::size_t count = 0;
    std::string first_path;
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
    }
    return ms;
  };

  // Warm-up: the page caches of both connections and of the OS.
  for (std::size_t i = 0; i < queries.size() && static_cast<long>(i) < warmup; ++i) {
    const auto& q = queries[i];
    if (Clock::now() > deadline) break;
    McpAnswer a;
    mcp_call(q, false, a);
    raw.run(fts_query(q), pool, false);
  }

  Stats mcp, floor_stats, fresh_stats;
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
    const std::size_t paths = prepare_each ? 3 : 2;
    for (std::size_t k = 0; k < paths; ++k) {
      switch ((i + k) % paths) {
        case 0:
          mcp.ms.push_back(mcp_call(q, true, answer));
          break;
        case 1: {
          auto t0 = Clock::now();
          std::string fts = fts_query(q);
          floor_result = raw.run(fts, pool, false);
          floor_stats.ms.push_back(ms_since(t0));
          break;
        }
        case 2: {
          auto t0 = Clock::now();
          std::string fts = fts_query(q);
          raw.run(fts, pool, true);
          fresh_stats.ms.push_back(ms_since(t0));
          break;
        }
      }
    }
    if (answer.count == 0) ++mcp_empty;
    if (floor_result.rows == 0) ++raw_empty;
    if (answer.first_path != floor_result.first_path) ++first_hit_mismatch;
    ++done;
  }

  const double p50_ratio = floor_stats.p(0.5) > 0 ? mcp.p(0.5) / floor_stats.p(0.5) : 0;
  const double p99_ratio = floor_stats.p(0.99) > 0 ? mcp.p(0.99) / floor_stats.p(0.99) : 0;
  auto r3 = [](double v) { return std::round(v * 1000.0) / 1000.0; };
  json::object out{{"queries", done},
                   {"limit", limit},
                   {"sql_limit", pool},
                   {"truncated", truncated},
                   {"mcp", mcp.summary()},
                   {"fts5", floor_stats.summary()},
                   {"ratio_p50", r3(p50_ratio)},
                   {"ratio_p99", r3(p99_ratio)},
                   {"mcp_errors", mcp_errors},
                   {"mcp_empty", mcp_empty},
                   {"fts5_empty", raw_empty},
                   {"first_hit_mismatch", first_hit_mismatch}};
  if (prepare_each) out["fts5_prepare_each"] = fresh_stats.summary();
  out["warmup"] = std::min<long>(warmup, static_cast<long>(queries.size()));
  out["seconds"] = r3(std::chrono::duration<double>(Clock::now() - started).count());
  std::cout << json::serialize(out) << "\n";
  return mcp_errors == 0 ? 0 : 1;
}
