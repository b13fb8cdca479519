// The boundary around every call into pack code (tools, resources, prompts, completions, REST routes,
// health checks): an exception that escapes a handler becomes an internal Error whose id is written to
// the server log with the exception, so one bad handler never ends the process.
#pragma once
#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "core/result.hpp"

namespace mcpd::core {

// Where faults are logged; set once at start-up (the core itself has no logger). Unset: stderr.
using FaultSink = void (*)(std::string_view id, std::string_view where, std::string_view what);
void set_fault_sink(FaultSink sink);

// Logs `what` under a fresh id and returns the internal Error the caller sees: it names `where`
// and the id, never the exception's text (which may hold paths, hosts or secrets).
Error fault(std::string_view where, std::string_view what);

// Logs the detail of an Error a handler returned (only the server log sees it).
void log_error_detail(std::string_view where, const Error& error);

// "tool 'echo'", or `kind` alone when `name` is empty: how a fault names the handler.
std::string handler_name(std::string_view kind, std::string_view name);

// Runs `f` (returning a Result<T>) and turns any escaped exception into fault(handler_name(kind, name), …).
// The name is built only when something was thrown: the boundary costs nothing on the way through.
template <typename F>
auto guarded(std::string_view kind, std::string_view name, F&& f) -> std::invoke_result_t<F> {
  try {
    return std::forward<F>(f)();
  } catch (const std::exception& e) {
    return fault(handler_name(kind, name), e.what());
  } catch (...) {
    return fault(handler_name(kind, name), "an exception that is not a std::exception");
  }
}

}  // namespace mcpd::core
