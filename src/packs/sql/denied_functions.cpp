// The functions sql_query refuses to call: the deny-list tables, where they come from, and the
// matching of a name as written against them.
//
// A deny-list, not an allow-list: a read may call any of PostgreSQL's ~3,000 built-in functions,
// those of every installed extension and the database's own, and an allow-list would refuse all
// of the latter it cannot know; the real allow-list is the role's EXECUTE privileges, which the
// server enforces. pg_sleep is allowed: statement_timeout bounds it like any slow query.
#include "packs/sql/denied_functions.hpp"

#include <algorithm>

namespace mcpd::packs::sql {

namespace {

// A function the check refuses, by its real (lowercase) name, and why.
struct RefusedFunction {
  std::string_view name;
  Dialect dialect;       // whose function it is; call syntax refuses every entry in both dialects
  std::string_view why;  // follows "function 'name' "
};

constexpr std::string_view kSideEffects = "has side effects: sql_query is read-only";
constexpr std::string_view kOtherSessions = "acts on other sessions or on the server itself: sql_query does not allow it";
constexpr std::string_view kSessionState =
    "changes session state that later calls on the same connection would inherit: sql_query does not allow it";
constexpr std::string_view kReplication = "changes or consumes replication state: sql_query is read-only";
constexpr std::string_view kLocks = "takes or releases advisory locks: sql_query is read-only";
constexpr std::string_view kXactId = "assigns a transaction id: sql_query is read-only";
constexpr std::string_view kLargeObjects =
    "works with large objects, which can write server files: sql_query does not allow it";
constexpr std::string_view kServerFiles = "reads the database server's files: sql_query does not allow it";
constexpr std::string_view kRunsText = "runs SQL given as text, which this check cannot inspect";
constexpr std::string_view kConnections = "opens or manages connections to other servers: sql_query does not allow it";
constexpr std::string_view kRawWrites =
    "writes tables, indexes or the catalog directly: sql_query is read-only";

constexpr Dialect kPgFn = Dialect::postgres;
constexpr Dialect kLiteFn = Dialect::sqlite;

// Every denied function by its exact name, by area. The PostgreSQL part was read name by name from
// the catalog of a PostgreSQL 15 server with every extension Debian's postgresql-15 ships installed
// (adminpack, dblink, postgres_fdw, pg_stat_statements, pageinspect, pg_surgery, pg_visibility,
// pg_walinspect, pg_prewarm, pg_trgm, tablefunc, xml2, lo, …), plus older releases' names. To refresh
// it, install them all (CREATE EXTENSION … CASCADE for each file in share/postgresql/15/extension)
// and read what this query lists:
//   SELECT DISTINCT p.proname FROM pg_proc p
//   WHERE (p.provolatile = 'v' OR p.proparallel = 'u') AND p.prokind IN ('f', 'w')
//     AND p.prorettype NOT IN ('trigger'::regtype, 'internal'::regtype, 'language_handler'::regtype,
//                              'fdw_handler'::regtype, 'index_am_handler'::regtype,
//                              'table_am_handler'::regtype, 'tsm_handler'::regtype)
//     AND NOT EXISTS (SELECT 1 FROM pg_type t WHERE p.oid IN (t.typinput, t.typoutput, t.typreceive, t.typsend))
//   ORDER BY 1;
// together with the functions PUBLIC may not execute (proacl set, no PUBLIC EXECUTE in
// aclexplode(proacl)) and, since volatility does not say it, the extension functions that take SQL
// as text (xml2's xpath_table and tablefunc's crosstab/connectby are STABLE). Left out on purpose:
// pg_sleep* (statement_timeout bounds it like any slow query; refusing it would stop nothing, a
// cross join waits as well, and would take away the plain way to test timeouts); clock and random
// functions; currval, lastval, txid_current_if_assigned, pg_current_xact_id_if_assigned (read);
// table_to_xml, schema_to_xml, database_to_xml (read tables by name with the caller's privileges);
// pg_walfile_name, pg_current_wal_lsn and the other read-only WAL positions; amcheck, pgstattuple,
// pg_buffercache, pg_visibility's readers (read under the server's own privilege checks);
// pg_hba_file_rules, pg_ident_file_mappings, pg_show_all_file_settings (the same rows are views,
// readable only as the server's privileges allow, so refusing the function would close nothing).
constexpr RefusedFunction kRefusedFunctions[] = {
    // PostgreSQL: other sessions and the server.
    {"pg_cancel_backend", kPgFn, kOtherSessions},
    {"pg_terminate_backend", kPgFn, kOtherSessions},
    {"pg_log_backend_memory_contexts", kPgFn, kOtherSessions},
    {"pg_reload_conf", kPgFn, kSideEffects},
    {"pg_rotate_logfile", kPgFn, kSideEffects},
    {"pg_rotate_logfile_old", kPgFn, kSideEffects},  // adminpack
    {"pg_promote", kPgFn, kSideEffects},
    {"pg_switch_wal", kPgFn, kSideEffects},
    {"pg_switch_xlog", kPgFn, kSideEffects},  // before PostgreSQL 10
    {"pg_create_restore_point", kPgFn, kSideEffects},
    {"pg_backup_start", kPgFn, kSideEffects},
    {"pg_backup_stop", kPgFn, kSideEffects},
    {"pg_start_backup", kPgFn, kSideEffects},  // before PostgreSQL 15
    {"pg_stop_backup", kPgFn, kSideEffects},
    {"pg_wal_replay_pause", kPgFn, kSideEffects},
    {"pg_wal_replay_resume", kPgFn, kSideEffects},
    {"pg_xlog_replay_pause", kPgFn, kSideEffects},  // before PostgreSQL 10
    {"pg_xlog_replay_resume", kPgFn, kSideEffects},
    {"pg_import_system_collations", kPgFn, kRawWrites},
    {"pg_stat_reset", kPgFn, kSideEffects},
    {"pg_stat_reset_shared", kPgFn, kSideEffects},
    {"pg_stat_reset_single_table_counters", kPgFn, kSideEffects},
    {"pg_stat_reset_single_function_counters", kPgFn, kSideEffects},
    {"pg_stat_reset_slru", kPgFn, kSideEffects},
    {"pg_stat_reset_replication_slot", kPgFn, kSideEffects},
    {"pg_stat_reset_subscription_stats", kPgFn, kSideEffects},
    {"pg_stat_statements_reset", kPgFn, kSideEffects},  // pg_stat_statements
    {"pg_notify", kPgFn, kSideEffects},
    {"pg_logical_emit_message", kPgFn, kSideEffects},
    {"pg_prewarm", kPgFn, kOtherSessions},  // pg_prewarm: fills shared buffers, evicting others' pages
    {"autoprewarm_start_worker", kPgFn, kOtherSessions},
    {"autoprewarm_dump_now", kPgFn, kSideEffects},  // writes a file
    // PostgreSQL: replication slots and origins.
    {"pg_create_logical_replication_slot", kPgFn, kReplication},
    {"pg_create_physical_replication_slot", kPgFn, kReplication},
    {"pg_drop_replication_slot", kPgFn, kReplication},
    {"pg_copy_logical_replication_slot", kPgFn, kReplication},
    {"pg_copy_physical_replication_slot", kPgFn, kReplication},
    {"pg_replication_slot_advance", kPgFn, kReplication},
    {"pg_logical_slot_get_changes", kPgFn, kReplication},  // consumes the slot's changes
    {"pg_logical_slot_get_binary_changes", kPgFn, kReplication},
    {"pg_logical_slot_peek_changes", kPgFn, kReplication},  // decodes WAL as the slot's owner
    {"pg_logical_slot_peek_binary_changes", kPgFn, kReplication},
    {"pg_replication_origin_create", kPgFn, kReplication},
    {"pg_replication_origin_drop", kPgFn, kReplication},
    {"pg_replication_origin_advance", kPgFn, kReplication},
    {"pg_replication_origin_session_setup", kPgFn, kReplication},
    {"pg_replication_origin_session_reset", kPgFn, kReplication},
    {"pg_replication_origin_xact_setup", kPgFn, kReplication},
    {"pg_replication_origin_xact_reset", kPgFn, kReplication},
    // PostgreSQL: settings and session state.
    {"set_config", kPgFn, kSideEffects},
    {"set_limit", kPgFn, kSessionState},  // pg_trgm: sets pg_trgm.similarity_threshold
    {"setseed", kPgFn, kSessionState},    // the next caller's random() would be predictable
    // PostgreSQL: sequences and transaction ids.
    {"nextval", kPgFn, kSideEffects},
    {"setval", kPgFn, kSideEffects},
    {"txid_current", kPgFn, kXactId},
    {"pg_current_xact_id", kPgFn, kXactId},
    // PostgreSQL: advisory locks (session locks outlive the call on a pooled connection).
    {"pg_advisory_lock", kPgFn, kLocks},
    {"pg_advisory_lock_shared", kPgFn, kLocks},
    {"pg_advisory_unlock", kPgFn, kLocks},
    {"pg_advisory_unlock_shared", kPgFn, kLocks},
    {"pg_advisory_unlock_all", kPgFn, kLocks},
    {"pg_advisory_xact_lock", kPgFn, kLocks},
    {"pg_advisory_xact_lock_shared", kPgFn, kLocks},
    {"pg_try_advisory_lock", kPgFn, "takes advisory locks: sql_query is read-only"},
    {"pg_try_advisory_lock_shared", kPgFn, "takes advisory locks: sql_query is read-only"},
    {"pg_try_advisory_xact_lock", kPgFn, "takes advisory locks: sql_query is read-only"},
    {"pg_try_advisory_xact_lock_shared", kPgFn, "takes advisory locks: sql_query is read-only"},
    // PostgreSQL: large objects (lo_create works even inside a read-only transaction).
    {"lo_close", kPgFn, kLargeObjects},
    {"lo_creat", kPgFn, kLargeObjects},
    {"lo_create", kPgFn, kLargeObjects},
    {"lo_export", kPgFn, kLargeObjects},
    {"lo_from_bytea", kPgFn, kLargeObjects},
    {"lo_get", kPgFn, kLargeObjects},
    {"lo_import", kPgFn, kLargeObjects},
    {"lo_lseek", kPgFn, kLargeObjects},
    {"lo_lseek64", kPgFn, kLargeObjects},
    {"lo_open", kPgFn, kLargeObjects},
    {"lo_put", kPgFn, kLargeObjects},
    {"lo_tell", kPgFn, kLargeObjects},
    {"lo_tell64", kPgFn, kLargeObjects},
    {"lo_truncate", kPgFn, kLargeObjects},
    {"lo_truncate64", kPgFn, kLargeObjects},
    {"lo_unlink", kPgFn, kLargeObjects},
    {"loread", kPgFn, kLargeObjects},
    {"lowrite", kPgFn, kLargeObjects},
    // PostgreSQL: the server's files (adminpack, pg_walinspect, pageinspect and the core ones).
    {"pg_read_file", kPgFn, kServerFiles},
    {"pg_read_file_old", kPgFn, kServerFiles},  // adminpack
    {"pg_read_binary_file", kPgFn, kServerFiles},
    {"pg_stat_file", kPgFn, kServerFiles},
    {"pg_current_logfile", kPgFn, kServerFiles},
    {"pg_ls_dir", kPgFn, kServerFiles},
    {"pg_ls_logdir", kPgFn, kServerFiles},
    {"pg_ls_waldir", kPgFn, kServerFiles},
    {"pg_ls_tmpdir", kPgFn, kServerFiles},
    {"pg_ls_archive_statusdir", kPgFn, kServerFiles},
    {"pg_ls_logicalmapdir", kPgFn, kServerFiles},
    {"pg_ls_logicalsnapdir", kPgFn, kServerFiles},
    {"pg_ls_replslotdir", kPgFn, kServerFiles},
    {"pg_logdir_ls", kPgFn, kServerFiles},  // adminpack
    {"pg_file_read", kPgFn, kServerFiles},  // adminpack before 2.0
    {"pg_file_length", kPgFn, kServerFiles},
    {"pg_file_write", kPgFn, kSideEffects},  // adminpack
    {"pg_file_rename", kPgFn, kSideEffects},
    {"pg_file_unlink", kPgFn, kSideEffects},
    {"pg_file_sync", kPgFn, kSideEffects},
    {"pg_get_wal_record_info", kPgFn, kServerFiles},  // pg_walinspect reads WAL files
    {"pg_get_wal_records_info", kPgFn, kServerFiles},
    {"pg_get_wal_records_info_till_end_of_wal", kPgFn, kServerFiles},
    {"pg_get_wal_stats", kPgFn, kServerFiles},
    {"pg_get_wal_stats_till_end_of_wal", kPgFn, kServerFiles},
    {"get_raw_page", kPgFn, kServerFiles},  // pageinspect: raw pages skip row security and column grants
    {"xslt_process", kPgFn, kServerFiles},  // xml2: a stylesheet can fetch files and URLs
    // PostgreSQL: SQL hidden in a string, or sent to another server.
    {"query_to_xml", kPgFn, kRunsText},
    {"query_to_xmlschema", kPgFn, kRunsText},
    {"query_to_xml_and_xmlschema", kPgFn, kRunsText},
    {"cursor_to_xml", kPgFn, kRunsText},  // fetches from a cursor the session may hold for another caller
    {"cursor_to_xmlschema", kPgFn, kRunsText},
    {"ts_stat", kPgFn, kRunsText},
    {"ts_rewrite", kPgFn, kRunsText},  // its second argument may be a query run by the server
    {"crosstab", kPgFn, kRunsText},    // tablefunc
    {"crosstab2", kPgFn, kRunsText},
    {"crosstab3", kPgFn, kRunsText},
    {"crosstab4", kPgFn, kRunsText},
    {"connectby", kPgFn, kRunsText},
    {"xpath_table", kPgFn, kRunsText},  // xml2: builds a query from its text arguments
    {"dblink", kPgFn, kRunsText},
    {"dblink_exec", kPgFn, kRunsText},
    {"dblink_open", kPgFn, kRunsText},
    {"dblink_fetch", kPgFn, kRunsText},
    {"dblink_close", kPgFn, kRunsText},
    {"dblink_send_query", kPgFn, kRunsText},
    {"dblink_get_result", kPgFn, kRunsText},
    {"dblink_connect", kPgFn, kConnections},
    {"dblink_connect_u", kPgFn, kConnections},
    {"dblink_disconnect", kPgFn, kConnections},
    {"dblink_cancel_query", kPgFn, kConnections},
    {"dblink_get_notify", kPgFn, kConnections},
    {"dblink_is_busy", kPgFn, kConnections},
    {"dblink_error_message", kPgFn, kConnections},
    {"dblink_get_connections", kPgFn, kConnections},
    {"dblink_current_query", kPgFn, kConnections},
    {"dblink_get_pkey", kPgFn, kConnections},
    {"dblink_build_sql_insert", kPgFn, kConnections},
    {"dblink_build_sql_update", kPgFn, kConnections},
    {"dblink_build_sql_delete", kPgFn, kConnections},
    {"postgres_fdw_disconnect", kPgFn, kConnections},
    {"postgres_fdw_disconnect_all", kPgFn, kConnections},
    {"postgres_fdw_get_connections", kPgFn, kConnections},
    // PostgreSQL: writes past the read-only transaction, or only for initdb and pg_upgrade.
    {"heap_force_freeze", kPgFn, kRawWrites},  // pg_surgery
    {"heap_force_kill", kPgFn, kRawWrites},
    {"pg_truncate_visibility_map", kPgFn, kRawWrites},  // pg_visibility
    {"brin_summarize_new_values", kPgFn, kRawWrites},
    {"brin_summarize_range", kPgFn, kRawWrites},
    {"brin_desummarize_range", kPgFn, kRawWrites},
    {"gin_clean_pending_list", kPgFn, kRawWrites},
    {"pg_nextoid", kPgFn, kRawWrites},
    {"pg_stop_making_pinned_objects", kPgFn, kRawWrites},
    {"pg_extension_config_dump", kPgFn, kRawWrites},
    {"binary_upgrade_create_empty_extension", kPgFn, kRawWrites},
    {"binary_upgrade_set_missing_value", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_array_pg_type_oid", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_heap_pg_class_oid", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_heap_relfilenode", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_index_pg_class_oid", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_index_relfilenode", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_multirange_array_pg_type_oid", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_multirange_pg_type_oid", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_pg_authid_oid", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_pg_enum_oid", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_pg_tablespace_oid", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_pg_type_oid", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_toast_pg_class_oid", kPgFn, kRawWrites},
    {"binary_upgrade_set_next_toast_relfilenode", kPgFn, kRawWrites},
    {"binary_upgrade_set_record_init_privs", kPgFn, kRawWrites},
    // SQLite (extensions and the shell's functions).
    {"load_extension", kLiteFn, "loads native code into the server: sql_query does not allow it"},
    {"writefile", kLiteFn, kSideEffects},
    {"readfile", kLiteFn, kServerFiles},
    {"edit", kLiteFn, kSideEffects},
    {"fts3_tokenizer", kLiteFn, kSideEffects},
};

// Belt and braces for call syntax only: families whose future members are as dangerous as today's.
// A name after '.' is far more often a column than a function, so field position uses exact names.
struct RefusedPrefix {
  std::string_view prefix;
  std::string_view why;
};

constexpr RefusedPrefix kRefusedPrefixes[] = {
    {"pg_stat_reset", kSideEffects},
    {"pg_logical_slot_", kReplication},
    {"pg_replication_origin_", kReplication},
    {"pg_advisory_", kLocks},
    {"pg_try_advisory_", "takes advisory locks: sql_query is read-only"},
    {"lo_", kLargeObjects},
    {"pg_ls_", kServerFiles},
    {"pg_file_", kServerFiles},
    {"dblink", kRunsText},
    {"postgres_fdw_", kConnections},
    {"query_to_xml", kRunsText},
    {"crosstab", kRunsText},
    {"binary_upgrade_", kRawWrites},
};

// Whether the unquoted name `word` (ASCII already lowercased) can name `name`, or with `prefix` start
// with it, once the server has downcased it. PostgreSQL lowercases non-ASCII letters of unquoted names
// too when the database encoding is single-byte, with the locale's rules, and some of them become
// ASCII: in LATIN5 under a Turkish locale 'İ' becomes 'i', so PG_TERMİNATE_BACKEND(pid) calls
// pg_terminate_backend. A non-ASCII character (one UTF-8 sequence here, one byte once converted) may
// therefore stand for any ASCII letter; the check cannot know the database's encoding and locale.
bool may_name(std::string_view word, std::string_view name, bool prefix) {
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < word.size() && j < name.size()) {
    const auto c = static_cast<unsigned char>(word[i]);
    if (c < 0x80) {
      if (word[i] != name[j]) return false;
      ++i;
    } else {
      if (name[j] < 'a' || name[j] > 'z') return false;
      ++i;
      while (i < word.size() && (static_cast<unsigned char>(word[i]) & 0xC0) == 0x80) ++i;
    }
    ++j;
  }
  return j == name.size() && (prefix || i == word.size());
}

// Whether `lowercase_name` as written reaches `real` (or with `prefix`, a name starting with it);
// `unquoted_pg` when it is an unquoted PostgreSQL name, which the server may fold further (may_name).
bool may_reach(std::string_view lowercase_name, std::string_view real, bool unquoted_pg, bool prefix) {
  if (unquoted_pg && has_non_ascii(lowercase_name)) return may_name(lowercase_name, real, prefix);
  return prefix ? lowercase_name.starts_with(real) : lowercase_name == real;
}

}  // namespace

bool has_non_ascii(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

std::optional<RefusedName> refused_call(std::string_view lowercase_name, bool unquoted_pg) {
  for (const auto& f : kRefusedFunctions)
    if (may_reach(lowercase_name, f.name, unquoted_pg, false)) return RefusedName{std::string(f.name), f.why};
  for (const auto& p : kRefusedPrefixes)
    if (may_reach(lowercase_name, p.prefix, unquoted_pg, true)) return RefusedName{std::string(p.prefix) + "…", p.why};
  return std::nullopt;
}

std::optional<RefusedName> refused_field_call(std::string_view lowercase_name, bool unquoted) {
  for (const auto& f : kRefusedFunctions)
    if (f.dialect == Dialect::postgres && may_reach(lowercase_name, f.name, unquoted, false))
      return RefusedName{std::string(f.name), f.why};
  return std::nullopt;
}

std::vector<std::string> denied_function_names(Dialect dialect) {
  std::vector<std::string> out;
  for (const auto& f : kRefusedFunctions)
    if (f.dialect == dialect) out.emplace_back(f.name);
  return out;
}

}  // namespace mcpd::packs::sql
