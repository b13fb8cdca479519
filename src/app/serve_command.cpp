// `mcpd serve`: builds the registry from the enabled packs and runs the transports until SIGTERM.
#include <csignal>
#include <iostream>
#include <thread>

#include "app/commands.hpp"
#include "app/pack_catalog.hpp"
#include "app/version.hpp"
#include "core/dispatcher.hpp"
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

// Counts tool calls into the metrics, logs each at debug level, and records each in the audit log.
class CallRecorder : public core::CallObserver {
 public:
  CallRecorder(infra::Metrics& metrics, infra::AuditLog* audit) : metrics_(metrics), audit_(audit) {}
  bool wants_arguments() const override { return audit_ != nullptr; }
  void on_tool_call(const core::ToolCallEvent& call) override {
    metrics_.tool_call(call.tool, call.outcome, call.seconds);
    if (infra::log::enabled(infra::log::Level::Debug))
      infra::log::debug("tool call", {{"tool", call.tool}, {"outcome", call.outcome}, {"principal", call.session.principal()},
                                      {"ms", call.seconds * 1000.0}});
    if (audit_) audit_->record(audit_record(call));
  }

 private:
  static infra::AuditRecord audit_record(const core::ToolCallEvent& call) {
    infra::AuditRecord r;
    r.principal = call.session.principal();
    r.session = call.session.id();
    r.tool = std::string(call.tool);
    r.raw_arguments = call.arguments;  // redacted by the audit log's writer thread
    r.outcome = std::string(call.outcome);
    r.duration_ms = call.seconds * 1000.0;
    if (!call.result) {
      r.error = "unknown tool";
    } else if (auto* e = std::get_if<core::RpcError>(call.result)) {
      r.error = infra::mask_text(e->message);
    } else {
      const auto& result = std::get<core::ToolResult>(*call.result);
      if (result.is_error && !result.content.empty() && result.content[0].is_object())
        if (auto text = result.content[0].as_object().if_contains("text"); text && text->is_string())
          r.error = infra::mask_text(std::string(text->get_string().subview(0, std::min<std::size_t>(500, text->get_string().size()))));
      if (auto v = result.audit.if_contains("rows"); v && v->is_int64()) r.rows = v->get_int64();
      if (auto v = result.audit.if_contains("bytes"); v && v->is_int64()) r.bytes = v->get_int64();
    }
    return r;
  }

  infra::Metrics& metrics_;
  infra::AuditLog* audit_;
};

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

}  // namespace

int run_serve(const ServeFlags& flags) {
  auto loaded = load_config(flags);
  if (!loaded) return 2;
  const infra::Config& config = *loaded;
  infra::log::set_level(config.log_level);

  core::Registry registry;
  core::SessionManager sessions(config.max_sessions, std::chrono::seconds(config.session_idle_seconds),
                                [] { return infra::random_hex(16); }, config.sessions_per_key());
  std::vector<std::unique_ptr<core::Pack>> packs;
  for (const auto& name : config.enabled_packs) {
    std::unique_ptr<core::Pack> pack;
    try {
      pack = make_pack(name);
    } catch (const std::exception& e) {
      std::cerr << "mcpd: packs." << name << ": " << e.what() << "\n";
      return 1;
    }
    if (!pack) {
      std::string known;
      for (auto& n : pack_names()) known += (known.empty() ? "" : ", ") + n;
      std::cerr << "mcpd: configuration error: packs.enabled: unknown pack '" << name << "' (known: " << known << ")\n";
      return 2;
    }
    static const json::object kNoSettings;
    auto it = config.pack_settings.find(name);
    core::PackContext ctx{registry, sessions, it == config.pack_settings.end() ? kNoSettings : it->second, config.data_dir};
    try {
      pack->register_into(ctx);
    } catch (const std::exception& e) {
      std::cerr << "mcpd: configuration error: packs." << name << ": " << e.what() << "\n";
      return 2;
    }
    packs.push_back(std::move(pack));
  }

  infra::WorkerPool pool(config.workers);
  infra::Metrics metrics;
  std::unique_ptr<infra::AuditLog> audit;
  if (config.audit_enabled) {
    try {
      audit = std::make_unique<infra::AuditLog>(audit_path(config), config.audit_retention_days);
    } catch (const std::exception& e) {
      std::cerr << "mcpd: cannot open the audit log " << audit_path(config) << ": " << e.what()
                << " (set audit.path, or audit.enabled = false)\n";
      return 1;
    }
    metrics.add_gauge("mcpd_audit_dropped_total", "Tool calls the audit log could not record.",
                      [&] { return static_cast<double>(audit->dropped()); });
  }
  CallRecorder observer(metrics, audit.get());
  core::ServerInfo info;
  info.version = std::string(kVersion);
  info.instructions = "mcpd serves tool packs over MCP. Call tools/list to see what is enabled.";
  core::Dispatcher dispatcher(registry, info, &pool, &observer);
  dispatcher.set_limits({config.max_batch, config.max_response_bytes, 2 * config.max_body_bytes});
  metrics.add_gauge("mcpd_sessions", "Live MCP sessions.", [&] { return static_cast<double>(sessions.size()); });
  metrics.add_gauge("mcpd_sessions_evicted_total", "Idle sessions ended to make room for new ones (a key at its cap, or all sessions in use).",
                    [&] { return static_cast<double>(sessions.evicted()); });
  metrics.add_gauge("mcpd_worker_queue", "Tool calls waiting for a worker.", [&] { return static_cast<double>(pool.queued()); });

  std::thread stdio_thread;
  std::unique_ptr<transport::StdioServer> stdio;
  asio::io_context io(config.threads);
  WorkGuard work = asio::make_work_guard(io);

  transport::Authenticator auth(config.api_keys);
  transport::OriginGuard guard(config.allowed_origins, config.allowed_hosts);
  transport::RateLimiter limiter(config.rate_limit_per_second, config.rate_limit_burst);
  transport::HttpContext http_ctx{dispatcher, sessions, metrics, auth, guard, config.replay_events, std::string(kVersion),
                                  &pool, limiter.enabled() ? &limiter : nullptr};
  transport::McpRouter router(http_ctx);
  transport::HttpLimits limits;
  limits.max_body_bytes = config.max_body_bytes;
  limits.header_timeout = std::chrono::seconds(config.header_timeout_seconds);
  limits.idle_timeout = std::chrono::seconds(config.idle_timeout_seconds);
  limits.single_threaded = config.threads == 1;
  transport::HttpServer server(io, router, limits);

  try {
    if (config.http) {
      auto port = server.listen(*config.http, false);
      infra::log::info("listening", {{"transport", "http"}, {"address", config.http->host + ":" + std::to_string(port)},
                                     {"mcp", "/mcp"}, {"auth", auth.required()}, {"packs", json::value_from(config.enabled_packs)}});
    }
    if (config.status) {
      auto port = server.listen(*config.status, true);
      infra::log::info("listening", {{"transport", "status"}, {"address", config.status->host + ":" + std::to_string(port)}});
    }
  } catch (const std::exception& e) {
    std::cerr << "mcpd: cannot listen: " << e.what() << "\n";
    return 1;
  }

  // Idle sessions expire; checked every few seconds.
  asio::steady_timer sweeper(io);
  std::function<void()> sweep = [&] {
    sweeper.expires_after(std::chrono::seconds(5));
    sweeper.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      if (auto n = sessions.expire_idle(std::chrono::steady_clock::now()))
        infra::log::debug("sessions expired", {{"count", n}});
      sweep();
    });
  };
  sweep();

  bool stopping = false;
  auto begin_shutdown = [&](const char* why) {
    if (stopping) return;
    stopping = true;
    infra::log::info("shutting down", {{"reason", why}, {"in_flight", router.in_flight()}});
    server.stop_accepting();
    router.start_draining();
    if (stdio) stdio->stop();
    sweeper.cancel();
    asio::co_spawn(io, drain_and_stop(io, work, sessions, router, std::chrono::seconds(config.drain_seconds)), asio::detached);
  };
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (!ec) begin_shutdown(sig == SIGTERM ? "SIGTERM" : "SIGINT");
  });
  std::signal(SIGPIPE, SIG_IGN);

  if (config.stdio) {
    stdio = std::make_unique<transport::StdioServer>(dispatcher, sessions, config.max_body_bytes);
    stdio_thread = std::thread([&] {
      stdio->run(std::chrono::seconds(config.drain_seconds));
      // stdin closed: the client is gone, so is the stdio-only server.
      asio::post(io, [&] { if (!config.http) begin_shutdown("stdin closed"); });
    });
  }

  std::vector<std::thread> io_threads;
  for (int i = 1; i < config.threads; ++i) io_threads.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : io_threads) t.join();
  if (stdio_thread.joinable()) {
    if (stdio) stdio->stop();
    stdio_thread.join();
  }
  pool.join();
  infra::log::info("stopped");
  return 0;
}

}  // namespace mcpd::app
