// `mcpd serve`: builds the registry from the enabled packs and runs the transports until SIGTERM.
// run_serve, at the bottom, reads as the list of steps; each step is a function or method above it.
#include <csignal>
#include <iostream>
#include <thread>

#include "app/call_recorder.hpp"
#include "app/commands.hpp"
#include "app/pack_catalog.hpp"
#include "app/version.hpp"
#include "core/dispatcher.hpp"
#include "core/fault.hpp"
#include "infra/audit_log.hpp"
#include "infra/crypto.hpp"
#include "infra/logging.hpp"
#include "infra/masking.hpp"
#include "infra/metrics.hpp"
#include "infra/worker_pool.hpp"
#include "transport/http_server.hpp"
#include "transport/mcp_router.hpp"
#include "transport/stdio_server.hpp"

namespace mcpd::app {

namespace json = boost::json;
namespace asio = boost::asio;

namespace {

using WorkGuard = asio::executor_work_guard<asio::io_context::executor_type>;

// Waits for answers in flight (up to `grace`), ends the sessions (closing their streams), stops.
asio::awaitable<void> drain_and_stop(asio::io_context& io, WorkGuard& work, core::SessionManager& sessions,
                                     transport::McpRouter& router, std::chrono::seconds grace) {
  asio::steady_timer timer(io);
  auto deadline = std::chrono::steady_clock::now() + grace;
  for (;;) {
    std::size_t calls = 0;
    for (auto& s : sessions.all()) calls += s->calls_in_flight();
    if ((router.in_flight() == 0 && calls == 0) || std::chrono::steady_clock::now() >= deadline) break;
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::use_awaitable);
  }
  sessions.end_all();
  work.reset();
  timer.expires_after(std::chrono::milliseconds(50));  // time to write the closing SSE chunks
  co_await timer.async_wait(asio::use_awaitable);
  io.stop();
}

// A start-up step that failed: it has said why on stderr; run_serve exits with `code`.
struct StartupFailed {
  int code;
};

// Step 1: the effective settings (defaults < file < environment < flags), with logging set up.
infra::Config load_settings(const ServeFlags& flags) {
  auto loaded = load_config(flags);
  if (!loaded) throw StartupFailed{2};
  infra::log::set_level(loaded->log_level);
  core::set_fault_sink([](std::string_view id, std::string_view where, std::string_view what) {
    infra::log::error("handler failed", {{"id", id}, {"in", where}, {"error", infra::mask_text(std::string(what))}});
  });
  return std::move(*loaded);
}

// Step 2: each enabled pack, built and registered with its settings.
std::vector<std::unique_ptr<core::Pack>> load_packs(const infra::Config& config, core::Registry& registry,
                                                    core::SessionManager& sessions) {
  std::vector<std::unique_ptr<core::Pack>> packs;
  for (const auto& name : config.enabled_packs) {
    std::unique_ptr<core::Pack> pack;
    try {
      pack = make_pack(name);
    } catch (const std::exception& e) {
      std::cerr << "mcpd: packs." << name << ": " << e.what() << "\n";
      throw StartupFailed{1};
    }
    if (!pack) {
      std::string known;
      for (auto& n : pack_names()) known += (known.empty() ? "" : ", ") + n;
      std::cerr << "mcpd: configuration error: packs.enabled: unknown pack '" << name << "' (known: " << known << ")\n";
      throw StartupFailed{2};
    }
    static const json::object kNoSettings;
    auto it = config.pack_settings.find(name);
    core::PackContext ctx{registry, sessions, it == config.pack_settings.end() ? kNoSettings : it->second, config.data_dir};
    try {
      pack->register_into(ctx);
    } catch (const std::exception& e) {
      std::cerr << "mcpd: configuration error: packs." << name << ": " << e.what() << "\n";
      throw StartupFailed{2};
    }
    packs.push_back(std::move(pack));
  }
  return packs;
}

// Step 3: the audit log (null when audit.enabled = false). Only a quick check that the file can be
// written happens here; the database is opened and pruned on the log's own thread.
std::unique_ptr<infra::AuditLog> open_audit_log(const infra::Config& config, infra::Metrics& metrics) {
  if (!config.audit_enabled) return nullptr;
  std::unique_ptr<infra::AuditLog> audit;
  try {
    audit = std::make_unique<infra::AuditLog>(
        audit_path(config), infra::AuditSettings{.retention_days = config.audit_retention_days, .max_bytes = config.audit_max_bytes});
  } catch (const std::exception& e) {
    std::cerr << "mcpd: cannot open the audit log " << audit_path(config) << ": " << e.what()
              << " (set audit.path, or audit.enabled = false)\n";
    throw StartupFailed{1};
  }
  metrics.add_gauge("mcpd_audit_dropped_total", "Tool calls the audit log could not record.",
                    [log = audit.get()] { return static_cast<double>(log->dropped()); });
  metrics.add_gauge("mcpd_audit_pruned_total", "Audit log rows deleted past audit.retention_days or beyond audit.max_bytes.",
                    [log = audit.get()] { return static_cast<double>(log->pruned()); });
  return audit;
}

// Step 4 (with the dispatcher itself): its limits, and the gauges of what it serves.
void configure_dispatcher(core::Dispatcher& dispatcher, const infra::Config& config, infra::Metrics& metrics,
                          core::SessionManager& sessions, infra::WorkerPool& pool) {
  dispatcher.set_limits({config.max_batch, config.max_response_bytes, 2 * config.max_body_bytes});
  metrics.add_gauge("mcpd_sessions", "Live MCP sessions.", [&sessions] { return static_cast<double>(sessions.size()); });
  metrics.add_gauge("mcpd_sessions_evicted_total", "Idle sessions ended to make room for new ones (a key at its cap, or all sessions in use).",
                    [&sessions] { return static_cast<double>(sessions.evicted()); });
  metrics.add_gauge("mcpd_worker_queue", "Blocking calls waiting for or running on a worker.",
                    [&pool] { return static_cast<double>(pool.queued()); });
  metrics.add_gauge("mcpd_worker_refused_total", "Blocking calls refused as busy because the worker queue was full.",
                    [&pool] { return static_cast<double>(pool.refused()); });
}

core::ServerInfo server_info() {
  core::ServerInfo info;
  info.version = std::string(kVersion);
  info.instructions = "mcpd serves tool packs over MCP. Call tools/list to see what is enabled.";
  return info;
}

transport::HttpLimits http_limits(const infra::Config& config) {
  transport::HttpLimits limits;
  limits.max_body_bytes = config.max_body_bytes;
  limits.header_timeout = std::chrono::seconds(config.header_timeout_seconds);
  limits.idle_timeout = std::chrono::seconds(config.idle_timeout_seconds);
  limits.single_threaded = config.threads == 1;
  return limits;
}

// Steps 5-7: the transports around the dispatcher (HTTP listeners, stdio) and what runs on their
// io_context (idle-session sweeps, signals, the graceful shutdown).
class Transports {
 public:
  Transports(const infra::Config& config, core::Dispatcher& dispatcher, core::SessionManager& sessions,
             infra::Metrics& metrics, infra::WorkerPool& pool)
      : config_(config),
        dispatcher_(dispatcher),
        sessions_(sessions),
        io_(config.threads),
        work_(asio::make_work_guard(io_)),
        auth_(config.api_keys),
        guard_(config.allowed_origins, config.allowed_hosts),
        limiter_(config.rate_limit_per_second, config.rate_limit_burst),
        http_ctx_{dispatcher, sessions, metrics, auth_, guard_, config.replay_events, std::string(kVersion),
                  &pool, limiter_.enabled() ? &limiter_ : nullptr},
        router_(http_ctx_),
        server_(io_, router_, http_limits(config)),
        sweeper_(io_),
        signals_(io_, SIGTERM, SIGINT) {}

  // Step 5: binds the listeners (a bad address fails start-up), then starts the idle-session
  // sweeps, the signal handlers and stdio.
  void start() {
    listen();
    sweep_idle_sessions();
    signals_.async_wait([this](boost::system::error_code ec, int sig) {
      if (!ec) begin_shutdown(sig == SIGTERM ? "SIGTERM" : "SIGINT");
    });
    std::signal(SIGPIPE, SIG_IGN);
    if (config_.stdio) {
      stdio_ = std::make_unique<transport::StdioServer>(dispatcher_, sessions_, config_.max_body_bytes);
      stdio_thread_ = std::thread([this] {
        stdio_->run(std::chrono::seconds(config_.drain_seconds));
        // stdin closed: the client is gone, so is the stdio-only server.
        asio::post(io_, [this] { if (!config_.http) begin_shutdown("stdin closed"); });
      });
    }
  }

  // Step 6: serves on the I/O threads until a signal (or stdin closing) has drained the server.
  void wait_for_signal() {
    std::vector<std::thread> io_threads;
    for (int i = 1; i < config_.threads; ++i) io_threads.emplace_back([this] { io_.run(); });
    io_.run();
    for (auto& t : io_threads) t.join();
  }

  // Step 7: stdio's thread is the last to finish.
  void shut_down() {
    if (stdio_thread_.joinable()) {
      if (stdio_) stdio_->stop();
      stdio_thread_.join();
    }
  }

 private:
  void listen() {
    try {
      if (config_.http) {
        auto port = server_.listen(*config_.http, false);
        infra::log::info("listening", {{"transport", "http"}, {"address", config_.http->host + ":" + std::to_string(port)},
                                       {"mcp", "/mcp"}, {"auth", auth_.required()}, {"packs", json::value_from(config_.enabled_packs)}});
      }
      if (config_.status) {
        auto port = server_.listen(*config_.status, true);
        infra::log::info("listening", {{"transport", "status"}, {"address", config_.status->host + ":" + std::to_string(port)}});
      }
    } catch (const std::exception& e) {
      std::cerr << "mcpd: cannot listen: " << e.what() << "\n";
      throw StartupFailed{1};
    }
  }

  // Idle sessions expire; checked every few seconds.
  void sweep_idle_sessions() {
    sweeper_.expires_after(std::chrono::seconds(5));
    sweeper_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      if (auto n = sessions_.expire_idle(std::chrono::steady_clock::now()))
        infra::log::debug("sessions expired", {{"count", n}});
      sweep_idle_sessions();
    });
  }

  void begin_shutdown(const char* why) {
    if (stopping_) return;
    stopping_ = true;
    infra::log::info("shutting down", {{"reason", why}, {"in_flight", router_.in_flight()}});
    server_.stop_accepting();
    router_.start_draining();
    if (stdio_) stdio_->stop();
    sweeper_.cancel();
    asio::co_spawn(io_, drain_and_stop(io_, work_, sessions_, router_, std::chrono::seconds(config_.drain_seconds)), asio::detached);
  }

  const infra::Config& config_;
  core::Dispatcher& dispatcher_;
  core::SessionManager& sessions_;
  std::thread stdio_thread_;
  std::unique_ptr<transport::StdioServer> stdio_;
  asio::io_context io_;
  WorkGuard work_;
  transport::Authenticator auth_;
  transport::OriginGuard guard_;
  transport::RateLimiter limiter_;
  transport::HttpContext http_ctx_;
  transport::McpRouter router_;
  transport::HttpServer server_;
  asio::steady_timer sweeper_;
  asio::signal_set signals_;
  bool stopping_ = false;  // only touched on the io_context
};

}  // namespace

int run_serve(const ServeFlags& flags) {
  try {
    const infra::Config config = load_settings(flags);

    core::Registry registry;
    core::SessionManager sessions(config.max_sessions, std::chrono::seconds(config.session_idle_seconds),
                                  [] { return infra::random_hex(16); }, config.sessions_per_key());
    auto packs = load_packs(config, registry, sessions);

    infra::WorkerPool pool(config.workers, config.max_queued_calls);
    infra::Metrics metrics;
    auto audit = open_audit_log(config, metrics);

    CallRecorder observer(&metrics, audit.get());
    core::Dispatcher dispatcher(registry, server_info(), &pool, &observer);
    configure_dispatcher(dispatcher, config, metrics, sessions, pool);

    Transports transports(config, dispatcher, sessions, metrics, pool);
    transports.start();
    transports.wait_for_signal();
    transports.shut_down();
    pool.join();
    infra::log::info("stopped");
    return 0;
  } catch (const StartupFailed& failed) {
    return failed.code;
  }
}

}  // namespace mcpd::app
