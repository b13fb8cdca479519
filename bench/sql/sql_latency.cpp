// sql_latency: the cost mcpd adds to a PostgreSQL query. The same indexed lookup
// (SELECT ... WHERE id = $1, a random id each time) sent two ways, side by side in one run:
//   direct — libpq's PQexecParams on a connection per client (the floor);
//   mcp    — the sql_query tool through MCP over Streamable HTTP, a keep-alive connection and
//            an MCP session per client, mcpd's pool in between.
// For each client count: calls/s, p50 and p99 of both, and what mcpd adds.
//
//   sql_latency --pg URL --mcp http://127.0.0.1:PORT/mcp [--source NAME] [--clients 1,32]
//               [--seconds 10] [--max-calls 200000] [--rows 10000] [--api-key KEY]
//               [--warmup 100] [--paths direct,mcp]
// (--paths mcp with --max-calls N is how bench/sql/callgrind.sh makes exactly N calls through mcpd.)
//
// The table (bench_items: id primary key, name, price) must exist with ids 1..rows
// (bench/sql/run.sh creates it). Prints one JSON object.
#include <libpq-fe.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

const char* kQuery = "SELECT id, name, price FROM bench_items WHERE id = $1";

struct Options {
  std::string pg, mcp, source = "bench", api_key;
  std::vector<int> clients{1, 32};
  double seconds = 10;
  long max_calls = 200000;
  int rows = 10000;
  int warmup = 100;  // calls per client before the measured ones
  bool run_direct = true, run_mcp = true;
};

struct Url {
  std::string host, port, target;
};

Url parse_url(const std::string& url) {
  // http://HOST:PORT/PATH only (the benchmark talks to loopback).
  auto rest = url.substr(url.find("://") + 3);
  auto slash = rest.find('/');
  auto hostport = rest.substr(0, slash);
  auto colon = hostport.rfind(':');
  return {hostport.substr(0, colon), hostport.substr(colon + 1), slash == std::string::npos ? "/" : rest.substr(slash)};
}

// One MCP client over a keep-alive HTTP/1.1 connection.
class McpClient {
 public:
  McpClient(const Url& url, std::string api_key, std::string source)
      : url_(url), api_key_(std::move(api_key)), source_(std::move(source)), stream_(io_) {
    asio::ip::tcp::resolver resolver(io_);
    stream_.connect(resolver.resolve(url_.host, url_.port));
    stream_.socket().set_option(asio::ip::tcp::no_delay(true));
    auto init = post(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25",)"
                     R"("capabilities":{},"clientInfo":{"name":"sql_latency","version":"1"}}})");
    if (session_.empty()) throw std::runtime_error("mcpd gave no session id: " + init);
    post(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  }

  // Calls sql_query; throws unless the tool answered without isError.
  void query(long id) {
    std::string body = R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"sql_query","arguments":{"source":")" +
                       source_ + R"(","sql":")" + kQuery + R"(","params":[)" + std::to_string(id) + "]}}}";
    auto answer = post(body);
    auto v = json::parse(answer);
    const auto* result = v.as_object().if_contains("result");
    const json::value* error = result && result->is_object() ? result->as_object().if_contains("isError") : nullptr;
    if (!result || (error && error->is_bool() && error->as_bool())) throw std::runtime_error("sql_query failed: " + answer);
  }

 private:
  std::string post(const std::string& body) {
    http::request<http::string_body> req{http::verb::post, url_.target, 11};
    req.set(http::field::host, url_.host);
    req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, "application/json, text/event-stream");
    if (!session_.empty()) {
      req.set("Mcp-Session-Id", session_);
      req.set("MCP-Protocol-Version", "2025-11-25");
    }
    if (!api_key_.empty()) req.set(http::field::authorization, "Bearer " + api_key_);
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    http::write(stream_, req);
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res);
    if (auto s = res.find("Mcp-Session-Id"); s != res.end()) session_ = std::string(s->value());
    if (res.result_int() >= 300) throw std::runtime_error("HTTP " + std::to_string(res.result_int()) + ": " + res.body());
    return res.body();
  }

  Url url_;
  std::string api_key_, source_;
  asio::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::string session_;
};

class PgClient {
 public:
  explicit PgClient(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) throw std::runtime_error(std::string("libpq: ") + PQerrorMessage(conn_));
  }
  ~PgClient() { PQfinish(conn_); }
  void query(long id) {
    std::string value = std::to_string(id);
    const char* params[] = {value.c_str()};
    PGresult* r = PQexecParams(conn_, kQuery, 1, nullptr, params, nullptr, nullptr, 0);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    PQclear(r);
    if (!ok) throw std::runtime_error(std::string("libpq query failed: ") + PQerrorMessage(conn_));
  }

 private:
  PGconn* conn_;
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}
double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

// `clients` threads, each with its own client made by `make`, calling for `seconds` (and at most
// max_calls in all) after o.warmup warm-up calls each. Latencies in ms.
template <typename Make>
json::object load(const Options& o, int clients, Make make) {
  std::vector<std::vector<double>> per_thread(static_cast<std::size_t>(clients));
  std::atomic<long> budget{o.max_calls};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::string> errors(static_cast<std::size_t>(clients));
  std::vector<std::thread> threads;
  Clock::time_point start, end;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      try {
        auto client = make();
        std::mt19937 rng(static_cast<unsigned>(t) * 7919u + 1);
        std::uniform_int_distribution<long> pick(1, o.rows);
        for (int i = 0; i < o.warmup; ++i) client->query(pick(rng));
        ready.fetch_add(1);
        while (!go.load()) std::this_thread::yield();
        auto& lat = per_thread[static_cast<std::size_t>(t)];
        const auto deadline = start + std::chrono::duration<double>(o.seconds);
        while (Clock::now() < deadline && budget.fetch_sub(1) > 0) {
          auto t0 = Clock::now();
          client->query(pick(rng));
          lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        }
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(t)] = e.what();
        ready.fetch_add(1);
      }
    });
  }
  while (ready.load() < clients) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  start = Clock::now();
  go = true;
  for (auto& th : threads) th.join();
  end = Clock::now();
  for (const auto& e : errors)
    if (!e.empty()) throw std::runtime_error(e);
  std::vector<double> all;
  for (auto& v : per_thread) all.insert(all.end(), v.begin(), v.end());
  const double seconds = std::chrono::duration<double>(end - start).count();
  return json::object{{"calls", all.size()},
                      {"calls_per_s", std::round(static_cast<double>(all.size()) / seconds)},
                      {"p50_ms", round3(percentile(all, 0.50))},
                      {"p99_ms", round3(percentile(all, 0.99))}};
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--pg") o.pg = v;
    else if (a == "--mcp") o.mcp = v;
    else if (a == "--source") o.source = v;
    else if (a == "--api-key") o.api_key = v;
    else if (a == "--seconds") o.seconds = std::stod(v);
    else if (a == "--max-calls") o.max_calls = std::stol(v);
    else if (a == "--rows") o.rows = std::stoi(v);
    else if (a == "--warmup") o.warmup = std::stoi(v);
    else if (a == "--paths") {
      o.run_direct = v.find("direct") != std::string::npos;
      o.run_mcp = v.find("mcp") != std::string::npos;
    }
    else if (a == "--clients") {
      o.clients.clear();
      std::stringstream in(v);
      for (std::string part; std::getline(in, part, ',');) o.clients.push_back(std::stoi(part));
    } else {
      std::cerr << "sql_latency: unknown option " << a << "\n";
      return 2;
    }
  }
  if (o.pg.empty() || o.mcp.empty()) {
    std::cerr << "usage: sql_latency --pg URL --mcp http://127.0.0.1:PORT/mcp [--clients 1,32] [--seconds 10]\n";
    return 2;
  }
  try {
    const Url url = parse_url(o.mcp);
    json::array runs;
    for (int clients : o.clients) {
      json::object direct, mcp;
      if (o.run_direct) {
        std::cerr << "sql_latency: " << clients << " client(s), direct\n";
        direct = load(o, clients, [&] { return std::make_unique<PgClient>(o.pg); });
      }
      if (o.run_mcp) {
        std::cerr << "sql_latency: " << clients << " client(s), mcp\n";
        mcp = load(o, clients, [&] { return std::make_unique<McpClient>(url, o.api_key, o.source); });
      }
      if (!o.run_direct || !o.run_mcp) {
        runs.push_back(json::object{{"clients", clients}, {o.run_direct ? "direct" : "mcp", o.run_direct ? direct : mcp}});
        continue;
      }
      const double added50 = mcp["p50_ms"].as_double() - direct["p50_ms"].as_double();
      const double added99 = mcp["p99_ms"].as_double() - direct["p99_ms"].as_double();
      runs.push_back(json::object{{"clients", clients},
                                  {"direct", direct},
                                  {"mcp", mcp},
                                  {"added_p50_ms", round3(added50)},
                                  {"added_p99_ms", round3(added99)},
                                  {"throughput_ratio", round3(mcp["calls_per_s"].to_number<double>() /
                                                              std::max(1.0, direct["calls_per_s"].to_number<double>()))}});
    }
    std::cout << json::serialize(json::object{{"query", kQuery}, {"seconds", o.seconds}, {"runs", runs}}) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "sql_latency: " << e.what() << "\n";
    return 2;
  }
}
