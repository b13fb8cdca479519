// mcpd entry point: subcommands serve, call, config check, kb, audit, version.
#include <CLI/CLI.hpp>

#include <iostream>

#include "app/commands.hpp"
#include "app/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{"mcpd: a fast, self-contained MCP server platform"};
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", std::string(mcpd::app::kVersion));

  mcpd::app::ServeFlags serve_flags;
  auto* serve = app.add_subcommand("serve", "Serve MCP over stdio and/or HTTP (default: HTTP on 127.0.0.1:8000)");
  mcpd::app::add_serve_flags(*serve, serve_flags);

  mcpd::app::ServeFlags config_flags;
  auto* config = app.add_subcommand("config", "Configuration tools");
  auto* check = config->add_subcommand("check", "Print the effective configuration (secrets masked) and validate it");
  config->require_subcommand(1);
  mcpd::app::add_serve_flags(*check, config_flags);

  mcpd::app::CallFlags call_flags;
  auto* call = app.add_subcommand("call", "Call a tool on an MCP server (MCP_SERVER_URL set: HTTP; else spawn mcpd on stdio)");
  call->add_option("tool", call_flags.tool, "Tool name");
  call->add_option("arguments", call_flags.assignments, "Arguments as key=value (values parsed as JSON when they are)");
  call->add_option("--json", call_flags.json_arguments, "Arguments as one JSON object");
  call->add_flag("--list", call_flags.list, "List the tools instead of calling one");
  call->add_option("--url", call_flags.url, "Server URL (default: $MCP_SERVER_URL)");
  call->add_option("--api-key", call_flags.api_key, "API key (default: $MCP_API_KEY or $API_TOKEN)");
  call->add_option("--enable-pack", call_flags.enable_packs, "Packs to enable in the spawned stdio server");

  mcpd::app::KbFlags kb_flags;
  auto* kb = app.add_subcommand("kb", "The knowledge index: sync, search, list, stats");
  kb->require_subcommand(1);
  auto* kb_sync = kb->add_subcommand("sync", "Sync the sources now (a progress bar on a terminal)");
  kb_sync->add_option("--source", kb_flags.sources, "Only this source (repeatable)");
  auto* kb_search = kb->add_subcommand("search", "Search the index");
  kb_search->add_option("query", kb_flags.query, "What to look for")->required();
  kb_search->add_option("--mode", kb_flags.mode, "lexical, semantic or hybrid");
  kb_search->add_option("--limit", kb_flags.limit, "Number of hits");
  kb_search->add_option("--source", kb_flags.sources, "Only this source");
  kb_search->add_flag("--json", kb_flags.json, "Print the structured answer");
  auto* kb_list = kb->add_subcommand("list", "List indexed documents");
  kb_list->add_option("--limit", kb_flags.limit, "Number of documents");
  kb_list->add_option("--source", kb_flags.sources, "Only this source");
  auto* kb_stats = kb->add_subcommand("stats", "Sources, counts, jobs and skipped files");
  auto* kb_check = kb->add_subcommand("check", "Verify the index (SQLite and full-text integrity); exit 1 if damaged");
  for (auto* sub : {kb_sync, kb_search, kb_list, kb_stats, kb_check}) mcpd::app::add_serve_flags(*sub, kb_flags.serve);

  mcpd::app::AuditFlags audit_flags;
  auto* audit = app.add_subcommand("audit", "Show recorded tool calls, newest first (the audit log)");
  audit->add_option("--since", audit_flags.since, "From this ISO-8601 time (e.g. 2026-11-22 or 2026-11-22T10:00)");
  audit->add_option("--until", audit_flags.until, "Before this ISO-8601 time");
  audit->add_option("--tool", audit_flags.tool, "Only this tool");
  audit->add_option("--principal", audit_flags.principal, "Only calls by this API key id (or anonymous)");
  audit->add_option("--outcome", audit_flags.outcome, "ok, error (every failure), tool_error, busy, cancelled, unknown_tool");
  audit->add_option("--limit", audit_flags.limit, "Rows to show (default 50)");
  audit->add_flag("--json", audit_flags.json, "One JSON object per line");
  mcpd::app::add_serve_flags(*audit, audit_flags.serve);

  app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (serve->parsed() || app.get_subcommands().empty()) return mcpd::app::run_serve(serve_flags);
    if (check->parsed()) return mcpd::app::run_config_check(config_flags);
    if (call->parsed()) return mcpd::app::run_call(call_flags, argv[0]);
    if (audit->parsed()) return mcpd::app::run_audit(audit_flags);
    if (kb->parsed()) {
      for (auto* sub : {kb_sync, kb_search, kb_list, kb_stats, kb_check})
        if (sub->parsed()) kb_flags.command = sub->get_name();
      return mcpd::app::run_kb(kb_flags);
    }
    std::cout << "mcpd " << mcpd::app::kVersion << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "mcpd: " << e.what() << "\n";
    return 1;
  }
}
