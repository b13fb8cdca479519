// Reads [packs.sql] (as JSON) into validated source settings, including the zero-configuration
// defaults: the SQLite sample database, and a PostgreSQL source from DATABASE_URL or POSTGRES_*.
#pragma once
#include <boost/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "packs/sql/sql_source.hpp"

namespace mcpd::packs::sql {

using GetEnv = std::function<std::optional<std::string>(const char*)>;

// The process environment; empty variables count as unset.
std::optional<std::string> process_env(const char* name);

// Throws std::invalid_argument with one sentence naming the key for unknown keys and bad values.
std::vector<SourceSettings> parse_sources(const json::object& settings, const std::string& data_dir,
                                          const GetEnv& getenv = process_env);

// A libpq key=value connection string from the seed's POSTGRES_HOST, POSTGRES_PORT, POSTGRES_DB,
// POSTGRES_USER and POSTGRES_PASSWORD; DATABASE_URL wins when set. nullopt when neither is set.
std::optional<std::string> postgres_url_from_env(const GetEnv& getenv);

}  // namespace mcpd::packs::sql
