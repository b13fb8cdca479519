// AWS Signature Version 4 over infra's SHA-256 and HMAC (the signing key is derived by chaining
// raw HMAC outputs).
#include "packs/storage/sigv4.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <stdexcept>
#include <utility>

#include "infra/crypto.hpp"

namespace mcpd::packs::storage::sigv4 {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// AWS's "Trimall": no leading or trailing blanks, inner runs of spaces become one space.
std::string trim_all(std::string_view s) {
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  std::string out;
  out.reserve(s.size());
  bool in_run = false;
  for (char c : s) {
    if (c == ' ') {
      if (!in_run) out += ' ';
      in_run = true;
    } else {
      out += c;
      in_run = false;
    }
  }
  return out;
}

std::string format_utc(std::chrono::system_clock::time_point when, const char* format) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

bool has_header(const std::vector<Header>& headers, std::string_view lower_name) {
  return std::any_of(headers.begin(), headers.end(), [&](const Header& h) { return lower(h.name) == lower_name; });
}

}  // namespace

std::string uri_encode(std::string_view raw, bool encode_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(raw.size() * 3);
  for (char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_' || c == '~';
    if (unreserved || (c == '/' && !encode_slash)) {
      out += ch;
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 0xF];
    }
  }
  return out;
}

std::string canonical_uri(std::string_view raw_path) {
  if (raw_path.empty()) return "/";
  return uri_encode(raw_path, false);
}

std::string canonical_query_string(const std::vector<QueryParam>& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& p : params) encoded.emplace_back(uri_encode(p.name, true), uri_encode(p.value, true));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

CanonicalHeaders canonical_headers(const std::vector<Header>& headers) {
  std::map<std::string, std::string> merged;  // sorted by lower-case name
  for (const auto& h : headers) {
    auto [it, fresh] = merged.try_emplace(lower(h.name), trim_all(h.value));
    if (!fresh) it->second += "," + trim_all(h.value);
  }
  CanonicalHeaders out;
  for (const auto& [name, value] : merged) {
    out.block += name + ":" + value + "\n";
    if (!out.signed_headers.empty()) out.signed_headers += ';';
    out.signed_headers += name;
  }
  return out;
}

std::string sha256_hex(std::string_view data) { return infra::sha256_hex(data); }

std::string amz_date(std::chrono::system_clock::time_point when) { return format_utc(when, "%Y%m%dT%H%M%SZ"); }

std::string date_stamp(std::chrono::system_clock::time_point when) { return format_utc(when, "%Y%m%d"); }

std::string credential_scope(std::string_view date_stamp, const Scope& scope) {
  return std::string(date_stamp) + "/" + scope.region + "/" + scope.service + "/aws4_request";
}

std::string canonical_request(const Request& request) {
  const CanonicalHeaders headers = canonical_headers(request.headers);
  std::string out;
  out += request.method + "\n";
  out += canonical_uri(request.path) + "\n";
  out += canonical_query_string(request.query) + "\n";
  out += headers.block + "\n";
  out += headers.signed_headers + "\n";
  out += request.payload_hash;
  return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view credential_scope,
                           std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out += "\n";
  out += amz_date;
  out += "\n";
  out += credential_scope;
  out += "\n";
  out += sha256_hex(canonical_request);
  return out;
}

std::string signing_key(std::string_view secret_access_key, std::string_view date_stamp, const Scope& scope) {
  const std::string k_date = infra::hmac_sha256("AWS4" + std::string(secret_access_key), date_stamp);
  const std::string k_region = infra::hmac_sha256(k_date, scope.region);
  const std::string k_service = infra::hmac_sha256(k_region, scope.service);
  return infra::hmac_sha256(k_service, "aws4_request");
}

std::string signature(std::string_view signing_key, std::string_view string_to_sign) {
  const std::string mac = infra::hmac_sha256(signing_key, string_to_sign);
  return infra::hex_encode(mac);
}

SignedRequest sign_request(const Request& request, const Credentials& credentials, const Scope& scope,
                           std::chrono::system_clock::time_point now) {
  const std::string date = amz_date(now);
  const std::string day = date_stamp(now);
  Request signed_request = request;
  if (!has_header(signed_request.headers, "x-amz-date")) signed_request.headers.push_back({"x-amz-date", date});
  if (!has_header(signed_request.headers, "x-amz-content-sha256"))
    signed_request.headers.push_back({"x-amz-content-sha256", request.payload_hash});
  if (!credentials.session_token.empty() && !has_header(signed_request.headers, "x-amz-security-token"))
    signed_request.headers.push_back({"x-amz-security-token", credentials.session_token});

  SignedRequest out;
  const std::string scope_text = credential_scope(day, scope);
  out.canonical_request = canonical_request(signed_request);
  out.string_to_sign = string_to_sign(date, scope_text, out.canonical_request);
  out.signature = signature(signing_key(credentials.secret_access_key, day, scope), out.string_to_sign);
  out.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" + scope_text +
                      ", SignedHeaders=" + canonical_headers(signed_request.headers).signed_headers +
                      ", Signature=" + out.signature;
  out.headers = std::move(signed_request.headers);
  out.headers.push_back({"Authorization", out.authorization});
  return out;
}

PresignedRequest presign(const Request& request, const Credentials& credentials, const Scope& scope,
                         std::chrono::system_clock::time_point now, long expires_seconds) {
  if (expires_seconds < 1 || expires_seconds > kMaxPresignExpirySeconds)
    throw std::invalid_argument("a presigned URL must expire within 1 to 604800 seconds (seven days), not " +
                                std::to_string(expires_seconds));
  const std::string date = amz_date(now);
  const std::string day = date_stamp(now);
  const std::string scope_text = credential_scope(day, scope);

  Request signed_request = request;
  signed_request.payload_hash = std::string(kUnsignedPayload);
  auto& q = signed_request.query;
  q.push_back({"X-Amz-Algorithm", std::string(kAlgorithm)});
  q.push_back({"X-Amz-Credential", credentials.access_key_id + "/" + scope_text});
  q.push_back({"X-Amz-Date", date});
  q.push_back({"X-Amz-Expires", std::to_string(expires_seconds)});
  q.push_back({"X-Amz-SignedHeaders", canonical_headers(request.headers).signed_headers});
  if (!credentials.session_token.empty()) q.push_back({"X-Amz-Security-Token", credentials.session_token});

  PresignedRequest out;
  out.canonical_request = canonical_request(signed_request);
  out.string_to_sign = string_to_sign(date, scope_text, out.canonical_request);
  out.signature = signature(signing_key(credentials.secret_access_key, day, scope), out.string_to_sign);
  out.query = canonical_query_string(signed_request.query) + "&X-Amz-Signature=" + out.signature;
  return out;
}

}  // namespace mcpd::packs::storage::sigv4
