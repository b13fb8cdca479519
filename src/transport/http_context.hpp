// What the HTTP handlers share: the dispatcher, sessions, security checks, metrics, settings.
#pragma once
#include <map>
#include <string>

#include "core/dispatcher.hpp"
#include "core/session_manager.hpp"
#include "infra/metrics.hpp"
#include "transport/auth.hpp"
#include "transport/origin_guard.hpp"
#include "transport/rate_limiter.hpp"

namespace mcpd::transport {

struct HttpContext {
  core::Dispatcher& dispatcher;
  core::SessionManager& sessions;
  infra::Metrics& metrics;
  const Authenticator& auth;
  const OriginGuard& guard;
  std::size_t replay_events = 512;
  std::string version;
  core::Executor* pool = nullptr;  // where pack routes marked Execution::Pool run
  RateLimiter* limiter = nullptr;  // per-key request rate; null: no limit
};

// "GET /path?query" -> "/path"
std::string_view target_path(const Request& request);
// The value of `name` in the query string, URL-decoded; empty if absent.
std::string query_param(const Request& request, std::string_view name);
// Every query parameter, URL-decoded (the last one wins on repeats).
std::map<std::string, std::string> query_params(const Request& request);

}  // namespace mcpd::transport
