// Type OID mapping for PostgreSQL results and parameters.
#include "packs/sql/pg_types.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <system_error>

#include "infra/crypto.hpp"
#include "packs/sql/result_format.hpp"

namespace mcpd::packs::sql {

namespace json = boost::json;

namespace {

// From src/include/catalog/pg_type.dat (stable across releases).
enum : PgOid {
  kBool = 16, kBytea = 17, kChar = 18, kName = 19, kInt8 = 20, kInt2 = 21, kInt4 = 23, kText = 25, kOidType = 26,
  kJson = 114, kXml = 142, kFloat4 = 700, kFloat8 = 701, kUnknown = 705, kMoney = 790, kInet = 869, kCidr = 650,
  kMacaddr = 829, kBpchar = 1042, kVarchar = 1043, kDate = 1082, kTime = 1083, kTimestamp = 1114,
  kTimestamptz = 1184, kInterval = 1186, kTimetz = 1266, kBit = 1560, kVarbit = 1562, kNumeric = 1700,
  kUuid = 2950, kJsonb = 3802, kBoolArray = 1000, kInt2Array = 1005, kInt4Array = 1007, kTextArray = 1009,
  kVarcharArray = 1015, kInt8Array = 1016, kFloat8Array = 1022, kJsonbArray = 3807, kNumericArray = 1231,
  kUuidArray = 2951, kTimestamptzArray = 1185, kVoid = 2278, kRecord = 2249, kRegclass = 2205, kTsvector = 3614,
  kJsonpath = 4072, kPgLsn = 3220, kXid = 28, kCid = 29, kTid = 27,
};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// bytea_output = hex ("\x4869"); the connection sets it, so the escape format never arrives.
json::value bytea_json(std::string_view text) {
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2 != 0) return json::string(text);
  std::string bytes;
  bytes.reserve((text.size() - 2) / 2);
  for (std::size_t i = 2; i < text.size(); i += 2) {
    int hi = hex_digit(text[i]), lo = hex_digit(text[i + 1]);
    if (hi < 0 || lo < 0) return json::string(text);
    bytes.push_back(static_cast<char>(hi * 16 + lo));
  }
  return json::string(infra::base64_encode(bytes));
}

json::value integer(std::string_view text) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return json::string(text);
  return integer_json(n);
}

json::value floating(std::string_view text) {
  std::string s(text);  // strtod needs a terminator
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(d)) return json::string(text);  // NaN, Infinity
  return d;
}

}  // namespace

std::string_view pg_builtin_type_name(PgOid oid) {
  switch (oid) {
    case kBool: return "bool";
    case kBytea: return "bytea";
    case kChar: return "char";
    case kName: return "name";
    case kInt8: return "int8";
    case kInt2: return "int2";
    case kInt4: return "int4";
    case kText: return "text";
    case kOidType: return "oid";
    case kTid: return "tid";
    case kXid: return "xid";
    case kCid: return "cid";
    case kJson: return "json";
    case kXml: return "xml";
    case kFloat4: return "float4";
    case kFloat8: return "float8";
    case kUnknown: return "unknown";
    case kMoney: return "money";
    case kInet: return "inet";
    case kCidr: return "cidr";
    case kMacaddr: return "macaddr";
    case kBpchar: return "bpchar";
    case kVarchar: return "varchar";
    case kDate: return "date";
    case kTime: return "time";
    case kTimestamp: return "timestamp";
    case kTimestamptz: return "timestamptz";
    case kInterval: return "interval";
    case kTimetz: return "timetz";
    case kBit: return "bit";
    case kVarbit: return "varbit";
    case kNumeric: return "numeric";
    case kUuid: return "uuid";
    case kJsonb: return "jsonb";
    case kBoolArray: return "bool[]";
    case kInt2Array: return "int2[]";
    case kInt4Array: return "int4[]";
    case kInt8Array: return "int8[]";
    case kTextArray: return "text[]";
    case kVarcharArray: return "varchar[]";
    case kFloat8Array: return "float8[]";
    case kNumericArray: return "numeric[]";
    case kJsonbArray: return "jsonb[]";
    case kUuidArray: return "uuid[]";
    case kTimestamptzArray: return "timestamptz[]";
    case kVoid: return "void";
    case kRecord: return "record";
    case kRegclass: return "regclass";
    case kTsvector: return "tsvector";
    case kJsonpath: return "jsonpath";
    case kPgLsn: return "pg_lsn";
  }
  return {};
}

json::value pg_value(PgOid oid, std::string_view text) {
  switch (oid) {
    case kInt2:
    case kInt4:
    case kInt8:
      return integer(text);
    case kFloat4:
    case kFloat8:
      return floating(text);
    case kBool:
      if (text == "t") return true;
      if (text == "f") return false;
      return json::string(text);
    case kJson:
    case kJsonb: {
      boost::system::error_code ec;
      json::value v = json::parse(text, ec);
      if (ec) return json::string(text);
      return v;
    }
    case kBytea:
      return bytea_json(text);
    default:
      return json::string(text);  // numeric (exact), dates, times, uuid, arrays, enums, ...
  }
}

std::string pg_param_text(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string: return std::string(v.get_string());
    case json::kind::bool_: return v.get_bool() ? "true" : "false";
    case json::kind::int64: return std::to_string(v.get_int64());
    case json::kind::uint64: return std::to_string(v.get_uint64());
    case json::kind::double_: {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.get_double());
      return ec == std::errc() ? std::string(buf, end) : json::serialize(v);
    }
    default: return json::serialize(v);  // objects and arrays, for json/jsonb parameters
  }
}

}  // namespace mcpd::packs::sql
