// The sql pack: configuration, tools, the table-schema resources, health checks and the maintenance
// thread that probes backends and closes idle connections.
#include "packs/sql/sql_pack.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/annotations.hpp"
#include "core/arguments.hpp"
#include "infra/logging.hpp"
#include "packs/sql/migrations.hpp"
#include "packs/sql/postgres_source.hpp"
#include "packs/sql/result_format.hpp"
#include "packs/sql/source_settings.hpp"
#include "packs/sql/sqlite_source.hpp"

namespace mcpd::packs::sql {

namespace {

using core::CallContext;
using core::Error;
using core::ToolOutcome;
using core::ToolResult;

constexpr std::int64_t kDefaultMaxRows = 100;
// Past this a max_rows is refused rather than capped (the source's own max_rows caps first: at most
// 1,000,000); it keeps the argument's error message readable.
constexpr std::int64_t kLargestMaxRows = 1'000'000'000'000;
constexpr std::chrono::seconds kMaintainEvery{5};

json::value parse(const char* text) { return json::parse(text); }

const json::value& query_output_schema() {
  static const json::value schema = parse(R"J({"type":"object","properties":{
    "source":{"type":"string"},
    "columns":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"},"type":{"type":"string"}},
      "required":["name","type"]}},
    "rows":{"type":"array","items":{"type":"object"}},
    "row_count":{"type":"integer"},
    "truncated":{"type":"boolean"},
    "rows_affected":{"type":"integer"},
    "command":{"type":"string"}},
    "required":["source","columns","rows","row_count","truncated"]})J");
  return schema;
}

std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

json::object schema_json(const std::string& source, const TableSchema& t) {
  json::array columns;
  for (const auto& c : t.columns) {
    json::object o{{"name", c.name}, {"type", c.type}, {"nullable", c.nullable}};
    o["default"] = c.default_value ? json::value(*c.default_value) : json::value(nullptr);
    o["primary_key"] = std::find(t.primary_key.begin(), t.primary_key.end(), c.name) != t.primary_key.end();
    columns.push_back(std::move(o));
  }
  json::array key;
  for (const auto& k : t.primary_key) key.push_back(json::string(k));
  return json::object{{"source", source},   {"schema", t.schema},         {"table", t.name},
                      {"type", t.type},     {"columns", std::move(columns)}, {"primary_key", std::move(key)}};
}

std::string schema_text(const TableSchema& t) {
  std::string out = t.type + " " + t.schema + "." + t.name + "\n";
  for (const auto& c : t.columns) {
    out += "  " + c.name + " " + c.type + (c.nullable ? "" : " NOT NULL");
    if (c.default_value) out += " DEFAULT " + *c.default_value;
    out += "\n";
  }
  if (!t.primary_key.empty()) out += "primary key (" + join(t.primary_key) + ")";
  return out;
}

std::vector<std::string> starting_with(const std::vector<std::string>& names, std::string_view prefix) {
  std::vector<std::string> out;
  for (const auto& n : names)
    if (n.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), n.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      out.push_back(n);
  return out;
}

}  // namespace

class SqlPack : public core::Pack {
 public:
  ~SqlPack() override {
    {
      std::lock_guard lock(stop_mutex_);
      stopping_ = true;
    }
    stop_cv_.notify_all();
    if (maintenance_.joinable()) maintenance_.join();
  }

  std::string name() const override { return "sql"; }

  void register_into(core::PackContext& ctx) override {
    auto settings = parse_sources(ctx.settings, ctx.data_dir);
    std::size_t postgres_count = 0;
    for (const auto& s : settings) postgres_count += s.type == "postgres";
    for (auto& s : settings) {
      if (s.type == "postgres") sources_.push_back(std::make_unique<PostgresSource>(std::move(s)));
      else sources_.push_back(std::make_unique<SqliteSource>(std::move(s)));
    }
    for (const auto& src : sources_) {
      names_.push_back(src->name());
      if (!postgres_default_ && src->settings().type == "postgres") postgres_default_ = src.get();
      // Seed 003's shape: "postgresql" when there is one PostgreSQL source.
      std::string key = src->settings().type == "postgres"
                            ? (postgres_count == 1 ? std::string("postgresql") : "postgresql:" + src->name())
                            : "sqlite:" + src->name();
      SqlSource* raw = src.get();
      ctx.registry.add_health_check(key, [raw] { return raw->health(); });
      infra::log::info("sql source", {{"source", src->name()},
                                      {"target", src->display_target()},
                                      {"allow_writes", src->allows_writes()},
                                      {"health_key", key}});
    }
    default_ = sources_.front().get();
    if (!postgres_default_) postgres_default_ = default_;
    register_tools(ctx.registry);
    register_resources(ctx.registry);
    maintenance_ = std::thread([this] { maintain_loop(); });
  }

 private:
  void maintain_loop() {
    std::unique_lock lock(stop_mutex_);
    while (!stopping_) {
      lock.unlock();
      for (const auto& src : sources_) {
        try {
          src->maintain();
        } catch (const std::exception& e) {
          infra::log::warn("sql maintenance failed", {{"source", src->name()}, {"error", e.what()}});
        }
      }
      lock.lock();
      stop_cv_.wait_for(lock, kMaintainEvery, [this] { return stopping_; });
    }
  }

  SqlSource* find(std::string_view name) const {
    for (const auto& s : sources_)
      if (s->name() == name) return s.get();
    return nullptr;
  }

  // The source named in `source`, else the default one.
  core::Result<SqlSource*> pick(const core::Arguments& args, bool prefer_postgres) const {
    auto name = args.optional_string("source");
    if (!name) return std::move(name).failure();
    if (!*name) return prefer_postgres ? postgres_default_ : default_;
    if (SqlSource* s = find(**name)) return s;
    return Error::invalid_argument("unknown source '" + **name + "'; the sources are: " + join(names_));
  }

  std::string sources_line(bool prefer_postgres) const {
    std::vector<std::string> parts;
    const SqlSource* def = prefer_postgres ? postgres_default_ : default_;
    for (const auto& s : sources_)
      parts.push_back(s->name() + " (" + s->settings().type + (s.get() == def ? ", the default" : "") +
                      (s->allows_writes() ? ", writable" : "") + ")");
    return "Sources: " + join(parts) + ".";
  }

  json::object source_property(bool prefer_postgres) const {
    json::array names;
    for (const auto& n : names_) names.push_back(json::string(n));
    const SqlSource* def = prefer_postgres ? postgres_default_ : default_;
    return json::object{{"type", "string"}, {"enum", std::move(names)},
                        {"description", "The source to use (default: " + def->name() + ")"}};
  }

  json::object statement_schema(bool prefer_postgres, bool read_only) const {
    json::object props;
    props["source"] = source_property(prefer_postgres);
    props["sql"] = json::object{
        {"type", "string"},
        {"description", read_only ? "One read-only statement (SELECT, WITH, VALUES, TABLE, EXPLAIN, SHOW). Parameters are "
                                    "$1, $2, ... on PostgreSQL and ?, ?N or :name on SQLite."
                                  : "One statement (INSERT, UPDATE, DELETE, DDL, ...), run in a transaction of its own. "
                                    "Parameters are $1, $2, ... on PostgreSQL and ?, ?N or :name on SQLite."}};
    props["query"] = json::object{{"type", "string"}, {"description", "The same as sql (the argument name existing postgres_query clients send)"}};
    props["params"] = json::object{{"type", "array"},
                                   {"description", "Values for the parameters, in order (strings, numbers, booleans, null; "
                                                   "objects and arrays are sent as JSON)"}};
    props["max_rows"] = json::object{{"type", "integer"},
                                     {"minimum", 1},
                                     {"description", "Rows to return at most (default 100, capped by the source's max_rows); "
                                                     "'truncated' says when there were more"}};
    return json::object{{"type", "object"}, {"properties", std::move(props)}};
  }

  // Runs sql_query / sql_execute for a call: the arguments, the source, the result.
  ToolOutcome run_statement(CallContext& ctx, const json::object& arguments, bool prefer_postgres, bool write) const {
    const core::Arguments args(arguments);
    auto source = pick(args, prefer_postgres);
    if (!source) return std::move(source).failure();
    auto sql = args.optional_string("sql");
    if (sql && !*sql) sql = args.optional_string("query");
    if (!sql) return std::move(sql).failure();
    if (!*sql || (*sql)->empty()) return Error::invalid_argument("give the statement to run in 'sql' (or 'query')");
    auto max_rows = args.integer("max_rows", kDefaultMaxRows, 1, kLargestMaxRows);
    if (!max_rows) return std::move(max_rows).failure();
    QueryRequest request;
    request.sql = std::move(**sql);
    if (auto p = args.raw("params"); p && p->is_array()) request.params = p->get_array();
    request.max_rows = std::min(static_cast<std::size_t>(*max_rows), (*source)->settings().max_rows);
    request.cancelled = [&ctx] { return ctx.cancelled(); };
    auto outcome = write ? (*source)->execute(request) : (*source)->query(request);
    if (!outcome) return std::move(outcome).failure();  // an Error the model reads, or Cancelled: no answer
    QueryResult& result = *outcome;
    const std::string& name = (*source)->name();
    // Rows read, or for a write the rows it changed.
    const std::int64_t rows = write && result.rows_affected ? *result.rows_affected : static_cast<std::int64_t>(result.rows.size());
    ToolResult r = ToolResult::text(result_text(name, result, request.max_rows));
    r.structured = result_json(name, std::move(result));  // the rows move into structuredContent
    r.audit = json::object{{"rows", rows}};
    return r;
  }

  void register_tools(core::Registry& r) {
    for (const bool alias : {false, true}) {
      core::Tool t;
      t.name = alias ? "postgres_query" : "sql_query";
      t.title = alias ? "Query PostgreSQL (sql_query)" : "Run a read-only SQL query";
      t.description =
          std::string(alias ? "The same tool as sql_query, under the name existing PostgreSQL agents call; its default source is "
                              "the first PostgreSQL one. "
                            : "") +
          "Run one read-only SQL statement with bound parameters and get typed rows (JSON numbers, booleans, "
          "parsed json/jsonb, exact numerics as strings, bytea as base64). Writes, transaction control and several "
          "statements are refused before they reach the database, and the session itself is read-only. " +
          sources_line(alias);
      t.input_schema = statement_schema(alias, true);
      t.output_schema = query_output_schema();
      t.annotations = core::read_only();
      t.execution = core::Execution::Pool;
      t.handler = [this, alias](CallContext& ctx, const json::object& args) { return run_statement(ctx, args, alias, false); };
      r.add_tool(std::move(t));
    }

    core::Tool exec;
    exec.name = "sql_execute";
    exec.title = "Run a SQL write";
    exec.description = "Run one write statement (INSERT, UPDATE, DELETE, DDL) in a transaction of its own, on a source "
                       "that allows writes (allow_writes = true). Never retried. " + sources_line(false);
    exec.input_schema = statement_schema(false, false);
    exec.output_schema = query_output_schema();
    exec.annotations = core::destructive({.idempotent = false});
    exec.execution = core::Execution::Pool;
    exec.handler = [this](CallContext& ctx, const json::object& args) { return run_statement(ctx, args, false, true); };
    r.add_tool(std::move(exec));

    core::Tool list;
    list.name = "sql_list_tables";
    list.title = "List tables";
    list.description = "The tables and views of a source that this server may read. " + sources_line(false);
    list.input_schema = json::object{{"type", "object"}, {"properties", json::object{{"source", source_property(false)}}}};
    list.output_schema = parse(R"J({"type":"object","properties":{"source":{"type":"string"},
      "tables":{"type":"array","items":{"type":"object","properties":{"schema":{"type":"string"},"name":{"type":"string"},
      "type":{"type":"string"}},"required":["schema","name","type"]}}},"required":["source","tables"]})J");
    list.annotations = core::read_only();
    list.execution = core::Execution::Pool;
    list.handler = [this](CallContext&, const json::object& args) -> ToolOutcome {
      auto picked = pick(core::Arguments(args), false);
      if (!picked) return std::move(picked).failure();
      SqlSource* source = *picked;
      auto outcome = source->list_tables();
      if (!outcome) return std::move(outcome).failure();
      json::array tables;
      std::string text;
      for (const auto& t : *outcome) {
        tables.push_back(json::object{{"schema", t.schema}, {"name", t.name}, {"type", t.type}});
        text += t.schema + "." + t.name + (t.type == "table" ? "" : " (" + t.type + ")") + "\n";
      }
      text += "(" + std::to_string(tables.size()) + " in " + source->name() + ")";
      ToolResult result = ToolResult::text(std::move(text));
      result.audit = json::object{{"rows", static_cast<std::int64_t>(tables.size())}};
      result.structured = json::object{{"source", source->name()}, {"tables", std::move(tables)}};
      return result;
    };
    r.add_tool(std::move(list));

    core::Tool describe;
    describe.name = "sql_describe_table";
    describe.title = "Describe a table";
    describe.description = "The columns of a table or view (name, type, nullability, default) and its primary key. "
                           "Also readable as the resource sql://{source}/{table}. " + sources_line(false);
    json::object describe_props{{"source", source_property(false)},
                                {"table", json::object{{"type", "string"},
                                                       {"description", "Table or view name, or schema.name"}}}};
    describe.input_schema = json::object{{"type", "object"}, {"properties", std::move(describe_props)},
                                         {"required", json::array{"table"}}};
    describe.output_schema = parse(R"J({"type":"object","properties":{"source":{"type":"string"},
      "schema":{"type":"string"},"table":{"type":"string"},"type":{"type":"string"},
      "columns":{"type":"array","items":{"type":"object"}},"primary_key":{"type":"array","items":{"type":"string"}}},
      "required":["source","schema","table","columns","primary_key"]})J");
    describe.annotations = core::read_only();
    describe.execution = core::Execution::Pool;
    describe.handler = [this](CallContext&, const json::object& arguments) -> ToolOutcome {
      const core::Arguments args(arguments);
      auto picked = pick(args, false);
      if (!picked) return std::move(picked).failure();
      SqlSource* source = *picked;
      auto table = args.optional_string("table");
      if (!table) return std::move(table).failure();
      if (!*table || (*table)->empty()) return Error::invalid_argument("give the table to describe in 'table'");
      auto outcome = source->describe_table(**table);
      if (!outcome) return std::move(outcome).failure();
      const TableSchema& schema = *outcome;
      ToolResult result = ToolResult::text(schema_text(schema));
      result.structured = schema_json(source->name(), schema);
      return result;
    };
    r.add_tool(std::move(describe));

    core::Tool init;
    init.name = "postgres_init_schema";
    init.title = "Apply schema migrations";
    init.description =
        "Apply schema changes in one transaction, each once: inline 'sql' (named by its SHA-256), or the *.sql files "
        "of 'migrations_dir' in name order; with neither, the built-in document pipeline schema (documents, "
        "processing_logs). Applied changes are recorded in the table mcpd_schema_migrations, so running it again "
        "applies nothing; an applied file that changed is an error. dry_run runs everything, then rolls back. Needs "
        "a source with allow_writes = true. " + sources_line(true);
    json::object init_props{
        {"source", source_property(true)},
        {"sql", json::object{{"type", "string"}, {"description", "SQL to apply once (several statements allowed)"}}},
        {"migrations_dir", json::object{{"type", "string"},
                                        {"description", "A folder on the server whose *.sql files are applied in name order"}}},
        {"dry_run", json::object{{"type", "boolean"}, {"description", "Validate and list what would be applied, then roll back"}}}};
    init.input_schema = json::object{{"type", "object"}, {"properties", std::move(init_props)}};
    init.output_schema = parse(R"J({"type":"object","properties":{"source":{"type":"string"},"dry_run":{"type":"boolean"},
      "applied":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"},"sha256":{"type":"string"}},
      "required":["name","sha256"]}},"already_applied":{"type":"array","items":{"type":"string"}}},
      "required":["source","dry_run","applied","already_applied"]})J");
    // Idempotent: applied migrations are recorded, so a second call applies nothing.
    init.annotations = core::destructive();
    init.execution = core::Execution::Pool;
    init.handler = [this](CallContext&, const json::object& args) -> ToolOutcome { return init_schema(args); };
    r.add_tool(std::move(init));
  }

  ToolOutcome init_schema(const json::object& arguments) const {
    const core::Arguments args(arguments);
    auto picked = pick(args, true);
    if (!picked) return std::move(picked).failure();
    SqlSource* source = *picked;
    auto sql = args.optional_string("sql");
    if (!sql) return std::move(sql).failure();
    auto dir = args.optional_string("migrations_dir");
    if (!dir) return std::move(dir).failure();
    auto dry_run_arg = args.boolean("dry_run", false);
    if (!dry_run_arg) return std::move(dry_run_arg).failure();
    const bool dry_run = *dry_run_arg;
    if (*sql && *dir) return Error::invalid_argument("give either 'sql' or 'migrations_dir', not both");
    const Dialect dialect = source->settings().type == "postgres" ? Dialect::postgres : Dialect::sqlite;
    std::vector<Migration> migrations;
    if (*sql) {
      if ((*sql)->find_first_not_of(" \t\r\n") == std::string::npos)
        return Error::invalid_argument("'sql' is empty; give the SQL to apply");
      migrations.push_back(inline_migration(std::move(**sql)));
    } else if (*dir) {
      auto loaded = load_migrations(**dir);
      if (!loaded) return std::move(loaded).failure();
      migrations = std::move(loaded).value();
    } else {
      migrations.push_back(builtin_document_schema(dialect));
    }
    auto outcome = source->init_schema(migrations, dry_run);
    if (!outcome) return std::move(outcome).failure();
    const InitSchemaResult& done = *outcome;
    json::array applied, skipped;
    std::vector<std::string> applied_names;
    for (const auto& m : done.applied) {
      applied.push_back(json::object{{"name", m.name}, {"sha256", m.sha256}});
      applied_names.push_back(m.name);
    }
    for (const auto& n : done.already_applied) skipped.push_back(json::string(n));
    std::string text;
    const std::string n_applied = std::to_string(done.applied.size()) + " migration(s)";
    const std::string n_skipped = std::to_string(done.already_applied.size()) + " already applied";
    if (dry_run)
      text = "Dry run on " + source->name() + ": would apply " + n_applied +
             (applied_names.empty() ? "" : " (" + join(applied_names) + ")") +
             ", all validated and rolled back; " + n_skipped + ".";
    else if (done.applied.empty())
      text = "Nothing to apply on " + source->name() + ": " + n_skipped + ".";
    else
      text = "Applied " + n_applied + " on " + source->name() + " (" + join(applied_names) + "); " + n_skipped + ".";
    ToolResult result = ToolResult::text(std::move(text));
    result.structured = json::object{{"source", source->name()},
                                     {"dry_run", dry_run},
                                     {"applied", std::move(applied)},
                                     {"already_applied", std::move(skipped)}};
    result.audit = json::object{{"rows", static_cast<std::int64_t>(done.applied.size())}};
    return result;
  }

  void register_resources(core::Registry& r) {
    core::ResourceTemplate t;
    t.uri_template = "sql://{source}/{table}";
    t.name = "table_schema";
    t.title = "Table schema";
    t.description = "The columns (name, type, nullability, default) and primary key of a table or view of a SQL source";
    t.mime_type = "application/json";
    // A database round trip: on the worker pool, bounded by the source's call time limit.
    t.execution = core::Execution::Pool;
    t.read = [this](CallContext&, const std::string& uri, const std::map<std::string, std::string>& vars) -> core::ReadOutcome {
      auto not_found = [&](const std::string& why) {
        return core::Error::not_found("Resource not found: " + uri + " (" + why + ")").with_data(json::object{{"uri", uri}});
      };
      SqlSource* source = find(vars.at("source"));
      if (!source) return not_found("unknown source; the sources are: " + join(names_));
      auto outcome = source->describe_table(vars.at("table"));
      if (outcome.cancelled()) return core::Cancelled{};
      if (outcome.failed()) {
        const Error& e = outcome.error();
        if (e.kind == core::ErrorKind::NotFound) return not_found(e.message);
        // The table exists, or might: the source failed to answer (it is down, slow or refused the catalog read).
        return Error::unavailable(e.message).with_code(e.code).with_data(json::object{{"uri", uri}});
      }
      std::string text = json::serialize(schema_json(source->name(), *outcome));
      return std::vector<core::ResourceContents>{{uri, "application/json", std::move(text), "", false}};
    };
    // Completions must not wait on a database: tables come from what the maintenance thread last saw.
    t.completers["source"] = [this](std::string_view prefix, const std::map<std::string, std::string>&) {
      return starting_with(names_, prefix);
    };
    t.completers["table"] = [this](std::string_view prefix, const std::map<std::string, std::string>& context) {
      const SqlSource* source = default_;
      if (auto it = context.find("source"); it != context.end())
        if (SqlSource* s = find(it->second)) source = s;
      return starting_with(source->known_tables(), prefix);
    };
    r.add_resource_template(std::move(t));
  }

  std::vector<std::unique_ptr<SqlSource>> sources_;
  std::vector<std::string> names_;
  SqlSource* default_ = nullptr;
  SqlSource* postgres_default_ = nullptr;

  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread maintenance_;
};

std::unique_ptr<core::Pack> make_pack() { return std::make_unique<SqlPack>(); }

}  // namespace mcpd::packs::sql
