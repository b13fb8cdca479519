// `mcpd audit`: the recorded tool calls, newest first, as a table or JSON lines.
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "app/commands.hpp"
#include "infra/audit_log.hpp"

namespace mcpd::app {

namespace json = boost::json;

namespace {

// Control characters (a client chooses tool names and arguments) shown as \xNN, so nothing
// recorded can drive the operator's terminal.
std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

bool valid_time(const std::string& t) {
  // An ISO-8601 prefix: digits, '-', ':', 'T', '.', 'Z' only (it is compared as text).
  return t.find_first_not_of("0123456789-:T.Z") == std::string::npos;
}

}  // namespace

int run_audit(const AuditFlags& flags) {
  auto config = load_config(flags.serve);
  if (!config) return 2;
  if (flags.limit < 1 || flags.limit > 100000) {
    std::cerr << "mcpd audit: --limit must be from 1 to 100000\n";
    return 2;
  }
  if (!valid_time(flags.since) || !valid_time(flags.until)) {
    std::cerr << "mcpd audit: --since and --until take ISO-8601 times such as 2026-11-22T10:00\n";
    return 2;
  }
  infra::AuditQuery q{flags.since, flags.until, flags.tool, flags.principal, flags.outcome, static_cast<std::size_t>(flags.limit)};
  std::vector<infra::AuditRecord> rows;
  try {
    rows = infra::AuditLog::read(audit_path(*config), q);
  } catch (const std::exception& e) {
    std::cerr << "mcpd audit: " << e.what() << "\n";
    return 1;
  }
  for (const auto& r : rows) {
    if (flags.json) {
      json::error_code ec;
      json::value args = json::parse(r.arguments, ec);
      json::object o{{"time", r.time},         {"principal", r.principal}, {"session", r.session},
                     {"tool", r.tool},         {"arguments", ec ? json::value(r.arguments) : args},
                     {"outcome", r.outcome},   {"duration_ms", r.duration_ms}};
      if (!r.error.empty()) o["error"] = r.error;
      if (r.rows) o["rows"] = *r.rows;
      if (r.bytes) o["bytes"] = *r.bytes;
      std::cout << json::serialize(o) << "\n";
      continue;
    }
    std::ostringstream line;
    line << r.time << "  " << std::left << std::setw(12) << printable(r.principal) << " " << std::setw(22) << printable(r.tool) << " "
         << std::setw(10) << r.outcome << " " << std::right << std::setw(9) << std::fixed << std::setprecision(2)
         << r.duration_ms << " ms";
    if (r.rows) line << "  rows=" << *r.rows;
    if (r.bytes) line << "  bytes=" << *r.bytes;
    line << "  " << printable(r.arguments);
    if (!r.error.empty()) line << "  error: " << printable(r.error);
    std::cout << line.str() << "\n";
  }
  if (!flags.json && rows.empty()) std::cerr << "mcpd audit: no tool calls match\n";
  return 0;
}

}  // namespace mcpd::app
