// The fault boundary: ids, the log sink, and the kind names.
#include "core/fault.hpp"

#include <atomic>
#include <cstdio>
#include <random>

namespace mcpd::core {

namespace {

void stderr_sink(std::string_view id, std::string_view where, std::string_view what) {
  std::fprintf(stderr, "mcpd: [%.*s] %.*s: %.*s\n", static_cast<int>(id.size()), id.data(),
               static_cast<int>(where.size()), where.data(), static_cast<int>(what.size()), what.data());
}

std::atomic<FaultSink> sink{&stderr_sink};

// Ids are unique within a process run and unguessable enough not to collide across restarts in one log.
std::string next_id() {
  static const std::uint32_t base = std::random_device{}();
  static std::atomic<std::uint32_t> counter{0};
  std::uint32_t n = base + counter.fetch_add(1, std::memory_order_relaxed) * 2654435761u;
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", n);
  return buf;
}

}  // namespace

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidArgument: return "invalid_argument";
    case ErrorKind::NotFound: return "not_found";
    case ErrorKind::Refused: return "refused";
    case ErrorKind::Unavailable: return "unavailable";
    case ErrorKind::Timeout: return "timeout";
    case ErrorKind::Busy: return "busy";
    case ErrorKind::Internal: return "internal";
  }
  return "internal";
}

std::string handler_name(std::string_view kind, std::string_view name) {
  if (name.empty()) return std::string(kind);
  return std::string(kind) + " '" + std::string(name) + "'";
}

void set_fault_sink(FaultSink s) { sink.store(s ? s : &stderr_sink); }

Error fault(std::string_view where, std::string_view what) {
  std::string id = next_id();
  sink.load()(id, where, what);
  return Error::internal("Internal error in " + std::string(where) + " (id " + id +
                         "); the server log has the details");
}

void log_error_detail(std::string_view where, const Error& error) {
  if (error.detail.empty()) return;
  sink.load()(next_id(), where, std::string(to_string(error.kind)) + ": " + error.message + " — " + error.detail);
}

}  // namespace mcpd::core
