// S3Client over libcurl (a small pool of easy handles keeps connections alive) with answers and
// error bodies parsed by libxml2. Each call signs its request with SigV4 at the current time; the
// path and query sent are exactly the ones signed, so keys are encoded once and only once. Every
// failure while serving is returned as a core::Error (see s3_client.hpp for the kinds and codes).
#include "packs/storage/s3_client.hpp"

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "infra/curl_errors.hpp"
#include "infra/masking.hpp"
#include "packs/storage/object_key.hpp"

namespace mcpd::packs::storage {

using core::Error;

namespace {

constexpr std::size_t kMaxErrorBodyBytes = 64 * 1024;    // an S3 error document is < 1 KB
constexpr std::uint64_t kMaxListBodyBytes = 32ull << 20;  // a 1000-key page is ~350 KB
constexpr std::size_t kMaxDetailChars = 300;
constexpr std::size_t kMaxIdleHandles = 4;
constexpr long kMaxConnectMs = 10000;

void ensure_libraries() {
  // Initialised once, thread-safely, and never cleaned up: other code may still use them.
  static const CURLcode rc = [] {
    xmlInitParser();
    return curl_global_init(CURL_GLOBAL_DEFAULT);
  }();
  if (rc != CURLE_OK) throw std::runtime_error(std::string("could not initialise libcurl: ") + curl_easy_strerror(rc));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  s = trim(s);
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

bool has_control_chars(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
}

std::string unquote_etag(std::string_view etag) {
  etag = trim(etag);
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return std::string(etag);
}

// Text from S3 or libcurl made safe for one sentence: credentials scrubbed, whitespace collapsed,
// bounded length (cut on a UTF-8 boundary), no trailing period.
std::string clean_detail(std::string text, const sigv4::Credentials& credentials) {
  return infra::clean_detail(std::move(text), {credentials.secret_access_key, credentials.session_token}, kMaxDetailChars);
}

// ---- XML (libxml2) -------------------------------------------------------------------------

struct XmlDocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocFree>;

// No network, no entity substitution (no XXE), no messages on stderr.
XmlDocPtr parse_xml(std::string_view body) {
  if (body.empty() || body.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return nullptr;
  return XmlDocPtr(xmlReadMemory(body.data(), static_cast<int>(body.size()), "s3.xml", nullptr,
                                 XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
}

bool named(const xmlNode* node, std::string_view name) {
  return node && node->type == XML_ELEMENT_NODE && node->name &&
         std::string_view(reinterpret_cast<const char*>(node->name)) == name;
}

std::string text_of(const xmlNode* node) {
  if (!node) return {};
  xmlChar* content = xmlNodeGetContent(node);
  if (!content) return {};
  std::string out(reinterpret_cast<const char*>(content));
  xmlFree(content);
  return out;
}

const xmlNode* child(const xmlNode* parent, std::string_view name) {
  for (const xmlNode* c = parent ? parent->children : nullptr; c; c = c->next)
    if (named(c, name)) return c;
  return nullptr;
}

struct ErrorDocument {
  std::string code, message, request_id;
};

ErrorDocument parse_error_document(std::string_view body) {
  ErrorDocument out;
  XmlDocPtr doc = parse_xml(body);
  const xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
  if (!named(root, "Error")) return out;
  out.code = std::string(trim(text_of(child(root, "Code"))));
  out.message = text_of(child(root, "Message"));
  out.request_id = std::string(trim(text_of(child(root, "RequestId"))));
  return out;
}

// ---- endpoint and addressing ---------------------------------------------------------------

struct Endpoint {
  std::string scheme;     // "http" | "https"
  std::string host;       // "127.0.0.1", "[::1]", "s3.us-east-1.amazonaws.com"
  std::string port;       // empty for the scheme's default
  std::string base_path;  // "" or "/storage/v1/s3"

  std::string authority() const { return port.empty() ? host : host + ":" + port; }
  std::string shown() const { return scheme + "://" + authority() + base_path; }
};

Endpoint parse_endpoint(std::string url, const std::string& region) {
  if (url.empty()) url = "https://s3." + region + ".amazonaws.com";
  Endpoint ep;
  const auto sep = url.find("://");
  if (sep == std::string::npos) throw std::invalid_argument("the S3 endpoint must start with http:// or https://");
  ep.scheme = lower(url.substr(0, sep));
  if (ep.scheme != "http" && ep.scheme != "https")
    throw std::invalid_argument("the S3 endpoint must start with http:// or https://, not " + ep.scheme + "://");
  const auto start = sep + 3;
  const auto end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  // Never echo the URL here: it may hold a password.
  if (authority.find('@') != std::string::npos)
    throw std::invalid_argument(
        "the S3 endpoint must not contain user:password@; give the keys as access_key_id and secret_access_key");
  std::string path = end == std::string::npos ? "" : url.substr(end);
  if (path.find_first_of("?#") != std::string::npos)
    throw std::invalid_argument("the S3 endpoint must not have a query string or fragment");
  while (!path.empty() && path.back() == '/') path.pop_back();
  ep.base_path = path;

  const auto bracket = authority.rfind(']');
  const auto colon = authority.rfind(':');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    ep.port = authority.substr(colon + 1);
    authority.resize(colon);
    if (ep.port.empty() || !std::all_of(ep.port.begin(), ep.port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      throw std::invalid_argument("the S3 endpoint has an invalid port \"" + ep.port + "\"");
    if ((ep.scheme == "http" && ep.port == "80") || (ep.scheme == "https" && ep.port == "443")) ep.port.clear();
  }
  ep.host = lower(authority);
  if (ep.host.empty() || has_control_chars(ep.host) || ep.host.find_first_of(" \\") != std::string::npos)
    throw std::invalid_argument("the S3 endpoint has no valid host name");
  return ep;
}

bool is_aws_host(const std::string& host) { return host == "amazonaws.com" || host.ends_with(".amazonaws.com"); }

// A bucket that can be a DNS label under TLS wildcards: lower case, digits and '-', no dots.
bool dns_safe_bucket(const std::string& bucket) {
  return !bucket.empty() && bucket.size() <= 63 && bucket.front() != '-' && bucket.back() != '-' &&
         std::all_of(bucket.begin(), bucket.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

// ---- one HTTP exchange ---------------------------------------------------------------------

struct Exchange {
  CURLcode code = CURLE_OK;
  char curl_error[CURL_ERROR_SIZE] = {};
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::uint64_t success_cap = 0;  // largest 2xx body accepted
  std::optional<std::uint64_t> declared_length;
  bool too_large = false;

  bool success() const { return status >= 200 && status < 300; }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const std::size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {  // a new answer (also after 100 Continue): start over
    ex->headers.clear();
    ex->declared_length.reset();
    ex->status = 0;
    auto sp = line.find(' ');
    if (sp != std::string_view::npos) {
      auto code = line.substr(sp + 1, 3);
      std::from_chars(code.data(), code.data() + code.size(), ex->status);
    }
    return n;
  }
  line = trim(line);
  if (line.empty()) {  // end of the headers: refuse an announced body above the cap before it comes
    if (ex->success() && ex->declared_length && *ex->declared_length > ex->success_cap) {
      ex->too_large = true;
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    return n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name = lower(trim(line.substr(0, colon)));
  std::string value(trim(line.substr(colon + 1)));
  if (name == "content-length") ex->declared_length = parse_u64(value);
  ex->headers[std::move(name)] = std::move(value);
  return n;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const std::size_t n = size * count;
  if (ex->success()) {
    if (ex->body.size() + n > ex->success_cap) {
      ex->too_large = true;
      return 0;  // aborts the transfer: a body without Content-Length is never buffered whole
    }
    ex->body.append(data, n);
  } else if (ex->body.size() < kMaxErrorBodyBytes) {
    ex->body.append(data, std::min(n, kMaxErrorBodyBytes - ex->body.size()));
  }
  return n;
}

struct Upload {
  std::string_view data;
  std::size_t offset = 0;
};

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* up = static_cast<Upload*>(user);
  const std::size_t n = std::min(size * count, up->data.size() - up->offset);
  std::memcpy(buffer, up->data.data() + up->offset, n);
  up->offset += n;
  return n;
}

int on_seek(void* user, curl_off_t offset, int origin) {
  auto* up = static_cast<Upload*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::uint64_t>(offset) > up->data.size())
    return CURL_SEEKFUNC_CANTSEEK;
  up->offset = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}


// 5xx (InternalError, SlowDown 503), 429, and S3's RequestTimeout (400: the connection idled): the
// same request may succeed later. Other 4xx will fail again.
bool retryable_answer(long status, std::string_view code) {
  return status >= 500 || status == 429 || code == "RequestTimeout" || code == "SlowDown";
}

bool is_credentials_code(std::string_view code) {
  return code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || code == "ExpiredToken" ||
         code == "InvalidToken" || code == "TokenRefreshRequired" || code == "AuthorizationHeaderMalformed";
}

// S3's error answer as an Error: `what` names the call and the answer; the kind and a hint of what
// to do follow from the code and the status.
Error answer_error(const std::string& what, long status, const std::string& code, std::string detail) {
  if (code == "InvalidArgument") return Error::invalid_argument(what, std::move(detail)).with_code(code);
  if (code == "NoSuchKey" || (code == "NotFound" && status == 404))
    return Error::not_found(what + "; list the bucket to see its keys", std::move(detail)).with_code("NoSuchKey");
  if (code == "NoSuchBucket") return Error::not_found(what + "; check the bucket name", std::move(detail)).with_code(code);
  if (is_credentials_code(code))
    return Error::refused(what +
                              "; check the store's credentials (access_key_id and secret_access_key, or "
                              "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
                          std::move(detail))
        .with_code(code);
  if (code == "AccessDenied" || code == "Forbidden" || status == 403)
    return Error::refused(what + "; check the store's credentials and the bucket's permissions", std::move(detail))
        .with_code(code);
  if (code == "InvalidRange")
    return Error::invalid_argument(what + "; ask for bytes inside the object", std::move(detail)).with_code(code);
  if (retryable_answer(status, code)) return Error::unavailable(what + "; try again later", std::move(detail)).with_code(code);
  if (status == 404) return Error::not_found(what, std::move(detail)).with_code(code);
  // Any other answer is about this request (a redirect to another region, a 4xx): it fails again.
  return Error::invalid_argument(what, std::move(detail)).with_code(code);
}

std::string code_for_status(long status) {
  switch (status) {
    case 400: return "BadRequest";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 412: return "PreconditionFailed";
    default: return "";
  }
}

struct CurlEasyFree {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
using EasyPtr = std::unique_ptr<CURL, CurlEasyFree>;

struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistFree>;

// What one call sends, and how it is named in messages.
struct Call {
  const char* operation = "";  // S3's name: "GetObject"
  const char* method = "GET";
  std::string bucket;
  std::optional<std::string> key;  // absent for bucket-level calls
  std::string shown_key;           // for messages: the key, or the listed prefix
  std::vector<sigv4::QueryParam> query;
  std::vector<sigv4::Header> headers;  // signed, besides Host and the x-amz-* ones
  std::optional<std::string_view> upload;
  std::uint64_t success_cap = 0;
  bool head = false;
  bool ranged = false;  // the call can ask for a byte range (GetObject): size errors suggest one
};

}  // namespace

// ---- the client ----------------------------------------------------------------------------

struct S3Client::Impl {
  S3ClientConfig config;
  Endpoint ep;
  std::string shown_endpoint;
  mutable std::mutex pool_mutex;  // calls are const and may run on several threads at once
  mutable std::vector<EasyPtr> idle;

  // An easy handle from the idle pool (keeping its live connection) or a fresh one.
  class Lease {
   public:
    explicit Lease(const Impl& owner) : owner_(owner) {
      {
        std::lock_guard lock(owner_.pool_mutex);
        if (!owner_.idle.empty()) {
          handle_ = std::move(owner_.idle.back());
          owner_.idle.pop_back();
        }
      }
      if (!handle_) handle_.reset(curl_easy_init());
    }
    ~Lease() {
      if (!handle_) return;
      std::lock_guard lock(owner_.pool_mutex);
      if (owner_.idle.size() < kMaxIdleHandles) owner_.idle.push_back(std::move(handle_));
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    CURL* handle() const { return handle_.get(); }

   private:
    const Impl& owner_;
    EasyPtr handle_;
  };

  struct Target {
    std::string host;      // Host header and URL authority
    std::string raw_path;  // decoded; encoded once by sigv4::canonical_uri
  };

  Target target(const std::string& bucket, const std::optional<std::string>& key) const {
    const bool path_style = config.path_style.value_or(!is_aws_host(ep.host)) || !dns_safe_bucket(bucket);
    if (path_style) return {ep.authority(), ep.base_path + "/" + bucket + (key ? "/" + *key : "")};
    return {bucket + "." + ep.authority(), ep.base_path + "/" + (key ? *key : "")};
  }

  std::string location(const Call& call) const { return "s3://" + call.bucket + "/" + call.shown_key; }

  // Refused before anything is sent.
  static Error invalid(std::string what) { return Error::invalid_argument(std::move(what)).with_code("InvalidArgument"); }

  // Our own failure (no memory for a libcurl handle or header list): nothing was sent.
  static Error not_made(const std::string& why) {
    return Error::internal("the S3 request could not be made: " + why).with_code("InternalError");
  }

  // The rules every store shares (object_key.hpp), here too so that no call of the client can send
  // or sign a path that a server could resolve to another object or bucket.
  static core::Status check_object(const std::string& bucket, const std::string& key) {
    if (auto problem = bucket_name_problem(bucket); !problem.empty()) return invalid(problem);
    if (auto problem = object_key_problem(key); !problem.empty()) return invalid(problem);
    return {};
  }

  static core::Status check_listing(const std::string& bucket, const std::string& prefix) {
    if (auto problem = bucket_name_problem(bucket); !problem.empty()) return invalid(problem);
    if (auto problem = list_prefix_problem(prefix); !problem.empty()) return invalid(problem);
    return {};
  }

  core::Result<Exchange> perform(const Call& call) const {
    const Target t = target(call.bucket, call.key);
    sigv4::Request request;
    request.method = call.method;
    request.path = t.raw_path;
    request.query = call.query;
    request.headers.push_back({"Host", t.host});
    for (const auto& h : call.headers) request.headers.push_back(h);
    request.payload_hash = call.upload ? sigv4::sha256_hex(*call.upload) : std::string(sigv4::kEmptyPayloadSha256);
    const sigv4::SignedRequest signed_request = sigv4::sign_request(
        request, config.credentials, sigv4::Scope{config.region, "s3"}, std::chrono::system_clock::now());

    std::string url = ep.scheme + "://" + t.host + sigv4::canonical_uri(t.raw_path);
    if (!call.query.empty()) url += "?" + sigv4::canonical_query_string(call.query);

    curl_slist* list = nullptr;
    bool listed = true;
    auto add = [&](const std::string& line) {
      if (!listed) return;
      // On failure curl_slist_append leaves the list as it was: `headers` below frees it.
      curl_slist* next = curl_slist_append(list, line.c_str());
      if (next) list = next;
      else listed = false;
    };
    for (const auto& h : signed_request.headers) add(h.name + ": " + h.value);
    add("Expect:");  // no 100-continue round trip before uploads
    SlistPtr headers(list);
    if (!listed) return not_made("could not build the request headers for S3");

    Exchange ex;
    ex.success_cap = call.success_cap;
    Upload upload{call.upload.value_or(std::string_view{}), 0};
    Lease lease(*this);
    CURL* h = lease.handle();
    if (!h) return not_made("could not create a libcurl handle for S3");
    curl_easy_reset(h);  // keeps live connections
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);  // keys like "a/../b" are names, not paths to tidy
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_USERAGENT, "mcpd");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (config.timeout_ms > 0) {
      curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, config.timeout_ms);
      curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, std::min(config.timeout_ms, kMaxConnectMs));
    }
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85.0
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    if (call.head) {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (call.upload) {
      curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(h, CURLOPT_READFUNCTION, &on_read);
      curl_easy_setopt(h, CURLOPT_READDATA, &upload);
      curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, &on_seek);
      curl_easy_setopt(h, CURLOPT_SEEKDATA, &upload);
      curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(upload.data.size()));
    } else if (std::strcmp(call.method, "GET") != 0) {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, call.method);
    }
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ex.curl_error);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &ex);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &ex);
    ex.code = curl_easy_perform(h);
    if (ex.code == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &ex.status);
    // ex, upload and headers go away; the handle stays in the pool.
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, nullptr);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, nullptr);
    curl_easy_setopt(h, CURLOPT_READDATA, nullptr);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, nullptr);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
    return ex;
  }

  // Where an answer came from, for the log: the endpoint and S3's request id.
  std::string answer_detail(const Exchange& ex, const std::string& request_id) const {
    std::string detail = "HTTP " + std::to_string(ex.status) + " from " + shown_endpoint;
    if (!request_id.empty()) detail += ", request id " + clean_detail(request_id, config.credentials);
    return detail;
  }

  // Performs the call and returns its 2xx answer, or the Error it earned. The endpoint and
  // libcurl's own words go to the Error's detail (the log), never to its message.
  core::Result<Exchange> run(const Call& call) const {
    auto performed = perform(call);
    if (!performed) return performed;
    Exchange& ex = *performed;
    const std::string where = "S3 " + std::string(call.operation) + " on " + location(call);
    if (ex.too_large) {
      const std::string limit = std::to_string(call.success_cap) + "-byte limit";
      const std::string size = ex.declared_length ? std::to_string(*ex.declared_length) + " bytes, above the "
                                                  : "larger than the ";
      std::string what = where + " was refused: the object is " + size + limit +
                         " (max_object_bytes); read it in parts with a byte range";
      if (call.ranged) what += " (e.g. range \"bytes=0-" + std::to_string(call.success_cap - 1) + "\")";
      return Error::invalid_argument(std::move(what), answer_detail(ex, ex.header("x-amz-request-id")))
          .with_code("ObjectTooLarge");
    }
    if (ex.code != CURLE_OK) {
      const std::string why = clean_detail(ex.curl_error[0] ? std::string(ex.curl_error) : curl_easy_strerror(ex.code),
                                           config.credentials);
      const std::string detail = shown_endpoint + ": " + why;
      if (ex.code == CURLE_OPERATION_TIMEDOUT)
        return Error::timeout(where + " timed out after " + std::to_string(config.timeout_ms) + " ms; try again later",
                              detail)
            .with_code("Timeout");
      const bool connect = ex.code == CURLE_COULDNT_CONNECT || ex.code == CURLE_COULDNT_RESOLVE_HOST ||
                           ex.code == CURLE_COULDNT_RESOLVE_PROXY;
      if (connect)
        return Error::unavailable(where + " failed: could not reach the S3 endpoint; try again later", detail)
            .with_code("ConnectionFailed");
      if (infra::retryable_curl_error(ex.code))
        return Error::unavailable(where + " failed: could not talk to the S3 endpoint; try again later", detail)
            .with_code("TransportError");
      // TLS verification, a redirect to another protocol, ...: the same request fails again.
      return Error::internal(where + " failed: could not talk to the S3 endpoint; check the store's endpoint (the "
                                     "server log has the reason)",
                             detail)
          .with_code("TransportError");
    }
    if (ex.success()) return performed;

    ErrorDocument doc = parse_error_document(ex.body);
    if (doc.code.empty()) doc.code = code_for_status(ex.status);
    if (doc.request_id.empty()) doc.request_id = ex.header("x-amz-request-id");
    // S3's Message explains the code to the caller ("The specified key does not exist"): it stays
    // in the message, cleaned of credentials and bounded.
    doc.message = clean_detail(std::move(doc.message), config.credentials);
    std::string what = where + " failed with HTTP " + std::to_string(ex.status);
    if (!doc.code.empty()) what += " " + clean_detail(doc.code, config.credentials);
    if (!doc.message.empty()) what += ": " + doc.message;
    // AWS names the bucket's region when it was asked in the wrong one (301, 400, 403 on HEAD).
    const std::string bucket_region = clean_detail(ex.header("x-amz-bucket-region"), config.credentials);
    if (!bucket_region.empty() && bucket_region != config.region)
      what += " (the bucket is in region " + bucket_region + ", not " + config.region + ": set region to it)";
    return answer_error(what, ex.status, doc.code, answer_detail(ex, doc.request_id));
  }

  Error malformed(const Call& call, const std::string& why) const {
    return Error::internal("S3 " + std::string(call.operation) + " on " + location(call) + " returned a malformed answer: " +
                               why,
                           "HTTP 200 from " + shown_endpoint)
        .with_code("MalformedResponse");
  }

  core::Result<ListObjectsResult> parse_list(const Call& call, const std::string& body) const {
    XmlDocPtr doc = parse_xml(body);
    if (!doc) return malformed(call, "the body is not XML");
    const xmlNode* root = xmlDocGetRootElement(doc.get());
    if (!named(root, "ListBucketResult")) return malformed(call, "the root element is not ListBucketResult");
    ListObjectsResult out;
    for (const xmlNode* n = root->children; n; n = n->next) {
      if (named(n, "Contents")) {
        S3ObjectSummary o;
        o.key = text_of(child(n, "Key"));  // keys are data: never trimmed
        o.size = parse_u64(text_of(child(n, "Size"))).value_or(0);
        o.last_modified = std::string(trim(text_of(child(n, "LastModified"))));
        o.etag = unquote_etag(text_of(child(n, "ETag")));
        out.objects.push_back(std::move(o));
      } else if (named(n, "CommonPrefixes")) {
        out.common_prefixes.push_back(text_of(child(n, "Prefix")));
      } else if (named(n, "IsTruncated")) {
        out.is_truncated = lower(trim(text_of(n))) == "true";
      } else if (named(n, "NextContinuationToken")) {
        out.next_continuation_token = text_of(n);
      }
    }
    if (out.is_truncated && out.next_continuation_token.empty())
      return malformed(call, "the page is truncated but has no NextContinuationToken");
    return out;
  }
};

S3Client::S3Client(S3ClientConfig config) : impl_(std::make_unique<Impl>()) {
  ensure_libraries();
  if (config.region.empty()) config.region = "us-east-1";
  impl_->ep = parse_endpoint(config.endpoint, config.region);
  impl_->shown_endpoint = impl_->ep.shown();
  impl_->config = std::move(config);
}

S3Client::~S3Client() = default;

bool is_transient(const Error& error) {
  return error.kind == core::ErrorKind::Unavailable || error.kind == core::ErrorKind::Timeout;
}

const std::string& S3Client::endpoint() const { return impl_->shown_endpoint; }

core::Result<ListObjectsResult> S3Client::list_objects_v2(const std::string& bucket, const std::string& prefix,
                                                          const std::string& delimiter, int max_keys,
                                                          const std::string& continuation_token) const {
  if (auto checked = Impl::check_listing(bucket, prefix); !checked) return std::move(checked).failure();
  Call call;
  call.operation = "ListObjectsV2";
  call.bucket = bucket;
  call.shown_key = prefix;
  call.query.push_back({"list-type", "2"});
  if (!prefix.empty()) call.query.push_back({"prefix", prefix});
  if (!delimiter.empty()) call.query.push_back({"delimiter", delimiter});
  if (max_keys > 0) call.query.push_back({"max-keys", std::to_string(max_keys)});
  if (!continuation_token.empty()) call.query.push_back({"continuation-token", continuation_token});
  call.success_cap = kMaxListBodyBytes;
  auto ex = impl_->run(call);
  if (!ex) return std::move(ex).failure();
  return impl_->parse_list(call, ex->body);
}

core::Result<GetObjectResult> S3Client::get_object(const std::string& bucket, const std::string& key,
                                                   const std::string& range) const {
  if (auto checked = Impl::check_object(bucket, key); !checked) return std::move(checked).failure();
  Call call;
  call.operation = "GetObject";
  call.bucket = bucket;
  call.key = key;
  call.shown_key = key;
  if (!range.empty()) {
    // bytes=first-last | bytes=first- | bytes=-suffix: one range, digits only.
    std::string_view spec(range);
    bool ok = spec.starts_with("bytes=");
    if (ok) {
      spec.remove_prefix(6);
      auto dash = spec.find('-');
      ok = dash != std::string_view::npos && spec.size() > 1 &&
           std::all_of(spec.begin(), spec.end(), [](char c) { return (c >= '0' && c <= '9') || c == '-'; }) &&
           spec.find('-', dash + 1) == std::string_view::npos;
    }
    if (!ok)
      return Impl::invalid("the range \"" + clean_detail(range, impl_->config.credentials) +
                           "\" is invalid; use bytes=FIRST-LAST, bytes=FIRST- or bytes=-COUNT");
    call.headers.push_back({"Range", range});
  }
  call.success_cap = impl_->config.max_object_bytes;
  call.ranged = true;
  auto answer = impl_->run(call);
  if (!answer) return std::move(answer).failure();
  Exchange& ex = *answer;
  GetObjectResult out;
  out.content_type = ex.header("content-type");
  out.content_length = parse_u64(ex.header("content-length")).value_or(ex.body.size());
  out.etag = unquote_etag(ex.header("etag"));
  out.content_range = ex.header("content-range");
  out.last_modified = ex.header("last-modified");
  out.bytes = std::move(ex.body);
  return out;
}

core::Result<ObjectInfo> S3Client::head_object(const std::string& bucket, const std::string& key) const {
  if (auto checked = Impl::check_object(bucket, key); !checked) return std::move(checked).failure();
  Call call;
  call.operation = "HeadObject";
  call.method = "HEAD";
  call.head = true;
  call.bucket = bucket;
  call.key = key;
  call.shown_key = key;
  call.success_cap = std::numeric_limits<std::uint64_t>::max();  // the length is the object's, no body comes
  auto answer = impl_->run(call);
  if (!answer) return std::move(answer).failure();
  const Exchange& ex = *answer;
  ObjectInfo out;
  out.content_type = ex.header("content-type");
  out.content_length = parse_u64(ex.header("content-length")).value_or(0);
  out.etag = unquote_etag(ex.header("etag"));
  out.last_modified = ex.header("last-modified");
  return out;
}

core::Result<std::string> S3Client::put_object(const std::string& bucket, const std::string& key, std::string_view bytes,
                                               const std::string& content_type) const {
  if (auto checked = Impl::check_object(bucket, key); !checked) return std::move(checked).failure();
  if (has_control_chars(content_type))
    return Impl::invalid("the content type contains control characters; give a MIME type such as text/plain");
  Call call;
  call.operation = "PutObject";
  call.method = "PUT";
  call.bucket = bucket;
  call.key = key;
  call.shown_key = key;
  call.headers.push_back({"Content-Type", content_type.empty() ? "application/octet-stream" : content_type});
  call.upload = bytes;
  call.success_cap = kMaxErrorBodyBytes;
  auto answer = impl_->run(call);
  if (!answer) return std::move(answer).failure();
  return unquote_etag(answer->header("etag"));
}

core::Status S3Client::delete_object(const std::string& bucket, const std::string& key) const {
  if (auto checked = Impl::check_object(bucket, key); !checked) return checked;
  Call call;
  call.operation = "DeleteObject";
  call.method = "DELETE";
  call.bucket = bucket;
  call.key = key;
  call.shown_key = key;
  call.success_cap = kMaxErrorBodyBytes;
  auto answer = impl_->run(call);
  if (!answer) return std::move(answer).failure();
  return {};
}

core::Result<std::string> S3Client::presign_get(const std::string& bucket, const std::string& key,
                                                long expires_seconds) const {
  return presign_get(bucket, key, expires_seconds, std::chrono::system_clock::now());
}

core::Result<std::string> S3Client::presign_get(const std::string& bucket, const std::string& key, long expires_seconds,
                                                std::chrono::system_clock::time_point now) const {
  if (auto checked = Impl::check_object(bucket, key); !checked) return std::move(checked).failure();
  // Checked here so that sigv4::presign, which throws on it, never sees a bad lifetime.
  if (expires_seconds < 1 || expires_seconds > sigv4::kMaxPresignExpirySeconds)
    return Impl::invalid("a presigned URL must expire within 1 to 604800 seconds (seven days), not " +
                         std::to_string(expires_seconds));
  const Impl::Target t = impl_->target(bucket, key);
  sigv4::Request request;
  request.method = "GET";
  request.path = t.raw_path;
  request.headers.push_back({"Host", t.host});
  const sigv4::PresignedRequest p = sigv4::presign(request, impl_->config.credentials,
                                                   sigv4::Scope{impl_->config.region, "s3"}, now, expires_seconds);
  return impl_->ep.scheme + "://" + t.host + sigv4::canonical_uri(t.raw_path) + "?" + p.query;
}

}  // namespace mcpd::packs::storage
