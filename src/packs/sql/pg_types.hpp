// PostgreSQL values as typed JSON: the server's text output for a column of a given type OID turned
// into a JSON number, boolean, object, base64 string or plain text, without losing precision.
#pragma once
#include <boost/json.hpp>

#include <string>
#include <string_view>

namespace mcpd::packs::sql {

using PgOid = unsigned int;

// The name of a built-in type ("int4", "timestamptz"), or empty for one the pack does not know
// (an enum, a domain, an extension's type: the source asks the server for those).
std::string_view pg_builtin_type_name(PgOid oid);

// int2/int4/int8 -> number (int8 beyond +-2^53 -> string); float4/float8 -> number (NaN and
// infinities -> string); numeric -> string (exact); bool -> true/false; json/jsonb -> parsed JSON;
// bytea -> base64 string; everything else (dates and times as the server prints them) -> text.
boost::json::value pg_value(PgOid oid, std::string_view text);

// Text for a parameter sent in text format: strings as they are, numbers in their shortest exact
// form ("1", not "1E0", so that they also read as integers), booleans as true/false, objects and
// arrays as JSON. Null is handled by the caller (a null pointer in libpq).
std::string pg_param_text(const boost::json::value& v);

}  // namespace mcpd::packs::sql
