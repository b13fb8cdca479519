// `mcpd kb sync|search|list|stats`: the knowledge pack from the command line, in-process, through
// the same dispatcher and tool handlers the MCP clients use.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <optional>

#include "app/call_recorder.hpp"
#include "app/commands.hpp"
#include "app/pack_catalog.hpp"
#include "core/call_context.hpp"
#include "core/dispatcher.hpp"
#include "core/session_manager.hpp"

namespace mcpd::app {

namespace json = boost::json;

namespace {

// Draws sync progress as a bar on stderr when stdout is a terminal.
class ProgressBar : public core::MessageSink {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled) {}
  void send(json::object message, const json::value&) override {
    if (!enabled_ || message.at("method").as_string() != "notifications/progress") return;
    const auto& p = message.at("params").as_object();
    double done = p.at("progress").to_number<double>();
    double total = p.contains("total") ? p.at("total").to_number<double>() : 0;
    int width = 40, filled = total > 0 ? static_cast<int>(width * done / total) : 0;
    std::fprintf(stderr, "\r[%s%s] %.0f/%.0f files", std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - filled), '.').c_str(), done, total);
    std::fflush(stderr);
    drawn_ = true;
  }
  void finish() {
    if (drawn_) std::fprintf(stderr, "\n");
  }

 private:
  bool enabled_;
  bool drawn_ = false;
};

}  // namespace

int run_kb(const KbFlags& flags) {
  auto config = load_config(flags.serve);
  if (!config) return 2;
  json::object settings;
  if (auto it = config->pack_settings.find("knowledge"); it != config->pack_settings.end()) settings = it->second;
  settings["sync_on_start"] = false;  // the CLI syncs only when asked to

  core::Registry registry;
  core::SessionManager sessions(4, std::chrono::seconds(60), [] { return std::string("cli"); });
  std::unique_ptr<core::Pack> pack;
  try {
    pack = make_pack("knowledge");
  } catch (const std::exception& e) {
    std::cerr << "mcpd kb: " << e.what() << "\n";
    return 1;
  }
  try {
    core::PackContext ctx{registry, sessions, settings, config->data_dir};
    pack->register_into(ctx);
  } catch (const std::exception& e) {
    std::cerr << "mcpd: configuration error: packs.knowledge: " << e.what() << "\n";
    return 2;
  }

  auto bar = std::make_shared<ProgressBar>(flags.command == "sync" && ::isatty(1));
  auto session = std::make_shared<core::Session>("cli", bar);
  session->set_principal("cli");
  session->mark_initialized("2025-11-25", {}, {});
  json::object args;
  std::string tool;
  if (flags.command == "sync") {
    tool = "sync_sources";
    if (!flags.sources.empty()) {
      json::array names;
      for (const auto& s : flags.sources) names.push_back(json::string(s));
      args["sources"] = std::move(names);
    }
  } else if (flags.command == "search") {
    tool = "search_documents";
    args["query"] = flags.query;
    if (flags.limit > 0) args["limit"] = flags.limit;
    if (!flags.mode.empty()) args["mode"] = flags.mode;
    if (!flags.sources.empty()) args["source"] = flags.sources.front();
  } else if (flags.command == "list") {
    tool = "list_documents";
    if (flags.limit > 0) args["limit"] = flags.limit;
    if (!flags.sources.empty()) args["source"] = flags.sources.front();
  } else {
    tool = "sync_status";
    if (flags.command == "check") args["check"] = true;
  }
  // Through the dispatcher, like every MCP client: argument validation, the fault boundary and the
  // audit log apply. Without a worker pool the call runs on this thread and `done` is called before
  // call_tool returns.
  std::unique_ptr<infra::AuditLog> audit;
  if (config->audit_enabled) {
    try {
      audit = std::make_unique<infra::AuditLog>(
          audit_path(*config),
          infra::AuditSettings{.retention_days = config->audit_retention_days, .max_bytes = config->audit_max_bytes});
    } catch (const std::exception& e) {
      std::cerr << "mcpd kb: cannot open the audit log " << audit_path(*config) << ": " << e.what()
                << " (set audit.path, or audit.enabled = false)\n";
      return 1;
    }
  }
  CallRecorder recorder(nullptr, audit.get());
  core::Dispatcher dispatcher(registry, core::ServerInfo{}, nullptr, &recorder);
  std::optional<core::ToolOutcome> outcome;
  // A progress token makes sync_sources wait for its job (and report progress) before answering.
  dispatcher.call_tool(session, json::value(1), tool, std::move(args),
                       flags.command == "sync" ? json::value(1) : json::value(nullptr),
                       [&outcome](core::ToolOutcome o) { outcome.emplace(std::move(o)); });
  bar->finish();
  if (!outcome || outcome->cancelled()) {
    std::cerr << "mcpd kb: the call did not finish\n";
    return 2;
  }
  if (outcome->failed()) {
    std::cerr << "mcpd kb: " << outcome->error().message << "\n";
    return 2;
  }
  auto& result = outcome->value();
  if (result.is_error) {
    std::cerr << "mcpd kb: " << result.content.at(0).at("text").as_string().c_str() << "\n";
    return 1;
  }
  if (flags.json || flags.command != "search") std::cout << json::serialize(result.structured) << "\n";
  else std::cout << result.content.at(0).at("text").as_string().c_str();
  if (flags.command == "sync") {
    for (const auto& r : result.structured.at("results").as_array())
      if (!r.at("ok").as_bool()) return 1;
  }
  if (flags.command == "check" && result.structured.at("integrity") != "ok") return 1;
  return 0;
}

}  // namespace mcpd::app
