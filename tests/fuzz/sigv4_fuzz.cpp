// Fuzzes the AWS SigV4 canonicaliser (src/packs/storage/sigv4.*). The input is a request as lines:
// method, raw path, raw query ("a=1&b"), then "Name: value" headers. Everything that is signed must be
// readable back from the canonical form, so two different requests never sign the same text.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "packs/storage/sigv4.hpp"

using namespace mcpd::packs::storage::sigv4;

namespace {

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto at = s.find(sep, start);
    out.emplace_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

// Undoes uri_encode, refusing anything it would not have written.
std::optional<std::string> uri_decode(std::string_view s, bool slash_kept) {
  std::string out;
  auto hex = [](char c) { return (c >= '0' && c <= '9') ? c - '0' : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1; };
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_' || c == '~' || (c == '/' && slash_kept);
    if (unreserved) {
      out += c;
    } else if (c == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// RFC 9110 token characters: what a header name may be made of.
bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// A header value as HTTP allows it: no control characters but tab (the S3 client refuses others).
bool is_field_value(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f; });
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

// AWS's trim: blanks off both ends, runs of spaces inside become one.
std::string trim_all(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::string out;
  for (char c : s)
    if (!(c == ' ' && !out.empty() && out.back() == ' ')) out += c;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto lines = split(std::string_view(reinterpret_cast<const char*>(data), size), '\n');
  Request request;
  request.method = lines[0];
  if (lines.size() > 1) request.path = lines[1];
  if (lines.size() > 2 && !lines[2].empty())
    for (const auto& pair : split(lines[2], '&')) {
      auto eq = pair.find('=');
      request.query.push_back({pair.substr(0, eq), eq == std::string::npos ? "" : pair.substr(eq + 1)});
    }
  for (std::size_t i = 3; i < lines.size() && i < 40; ++i) {
    auto colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    request.headers.push_back({lines[i].substr(0, colon), lines[i].substr(colon + 1)});
  }

  // Paths and query parts: every byte encoded once, and decoded back to itself.
  const std::string uri = canonical_uri(request.path);
  FUZZ_CHECK(!uri.empty() && (request.path.empty() ? uri == "/" : uri_decode(uri, true) == request.path),
             "the canonical path reads back as the path");
  FUZZ_CHECK(uri_decode(uri_encode(request.path, true), false) == request.path, "uri_encode reads back with '/' encoded");

  const std::string query = canonical_query_string(request.query);
  std::multiset<std::pair<std::string, std::string>> sent, read;
  for (const auto& q : request.query) sent.emplace(q.name, q.value);
  if (!query.empty()) {
    std::pair<std::string, std::string> previous;
    for (const auto& pair : split(query, '&')) {
      auto eq = pair.find('=');
      FUZZ_CHECK(eq != std::string::npos, "every parameter has '='");
      // AWS sorts by encoded name, then by encoded value.
      std::pair<std::string, std::string> encoded{pair.substr(0, eq), pair.substr(eq + 1)};
      FUZZ_CHECK(encoded >= previous, "query parameters are sorted by name, then value");
      previous = encoded;
      auto name = uri_decode(encoded.first, false), value = uri_decode(encoded.second, false);
      FUZZ_CHECK(name && value, "parameters are encoded, '/' included");
      read.emplace(*name, *value);
    }
  }
  FUZZ_CHECK(sent == read, "the canonical query reads back as the parameters");

  // Headers as HTTP allows them (what the S3 client sends): one line per name, readable back.
  const bool headers_valid = std::all_of(request.headers.begin(), request.headers.end(),
                                         [](const Header& h) { return is_token(h.name) && is_field_value(h.value); });
  const CanonicalHeaders headers = canonical_headers(request.headers);
  if (headers_valid) {
    std::map<std::string, std::string> expected;
    for (const auto& h : request.headers) {
      auto [it, fresh] = expected.try_emplace(lower(h.name), trim_all(h.value));
      if (!fresh) it->second += "," + trim_all(h.value);
    }
    std::string block, names;
    for (const auto& [name, value] : expected) {
      block += name + ":" + value + "\n";
      names += (names.empty() ? "" : ";") + name;
    }
    FUZZ_CHECK(headers.block == block, "the header block is the sorted, trimmed, merged headers");
    FUZZ_CHECK(headers.signed_headers == names, "signed headers name every header once, sorted");
    FUZZ_CHECK(static_cast<std::size_t>(std::count(block.begin(), block.end(), '\n')) == expected.size(),
               "one line per header");
  }

  const std::string canonical = canonical_request(request);
  FUZZ_CHECK(canonical == request.method + "\n" + uri + "\n" + query + "\n" + headers.block + "\n" +
                              headers.signed_headers + "\n" + request.payload_hash,
             "the canonical request is its six parts");

  // Signing, with a header-signed request and a presigned URL.
  const Credentials credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", size % 2 ? "token" : ""};
  const Scope scope{"us-east-1", "s3"};
  const auto now = std::chrono::system_clock::from_time_t(1369353600);  // AWS's examples: 2013-05-24
  const SignedRequest signed_request = sign_request(request, credentials, scope, now);
  FUZZ_CHECK(signed_request.signature.size() == 64, "a signature is 64 hex digits");
  FUZZ_CHECK(signed_request.signature ==
                 signature(signing_key(credentials.secret_access_key, date_stamp(now), scope),
                           string_to_sign(amz_date(now), credential_scope(date_stamp(now), scope),
                                          signed_request.canonical_request)),
             "the signature is over the canonical request");
  const std::vector<Header> signed_headers(signed_request.headers.begin(), signed_request.headers.end() - 1);
  FUZZ_CHECK(signed_request.headers.back().name == "Authorization" &&
                 signed_request.authorization.find(", SignedHeaders=" + canonical_headers(signed_headers).signed_headers +
                                                   ", Signature=") != std::string::npos,
             "Authorization names every signed header");
  const long expires = static_cast<long>(size % 700000);
  try {
    const PresignedRequest url = presign(request, credentials, scope, now, expires);
    FUZZ_CHECK(expires >= 1 && expires <= kMaxPresignExpirySeconds, "only a valid expiry presigns");
    const std::string last = "X-Amz-Signature=" + url.signature;
    FUZZ_CHECK(url.query.size() >= last.size() && url.query.substr(url.query.size() - last.size()) == last,
               "the signature comes last in a presigned query");
    FUZZ_CHECK(url.canonical_request.size() >= kUnsignedPayload.size() &&
                   url.canonical_request.substr(url.canonical_request.size() - kUnsignedPayload.size()) == kUnsignedPayload,
               "a presigned URL signs UNSIGNED-PAYLOAD");
  } catch (const std::invalid_argument&) {
    FUZZ_CHECK(expires < 1 || expires > kMaxPresignExpirySeconds, "a valid expiry is never refused");
  }
  return 0;
}
