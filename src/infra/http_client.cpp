// HttpClient over libcurl easy handles kept in a small pool (each keeps its live connection), with
// one circuit-breaker verdict per call and the retry loop around single exchanges.
#include "infra/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <ctime>
#include <limits>
#include <mutex>
#include <stdexcept>

#include "infra/curl_errors.hpp"
#include "infra/logging.hpp"
#include "infra/masking.hpp"

namespace mcpd::infra {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr std::size_t kMaxDetailChars = 300;
constexpr std::string_view kAlwaysRedacted[] = {"authorization", "proxy-authorization", "x-api-key", "cookie",
                                                "x-amz-security-token"};

void ensure_curl() {
  // Initialised once, thread-safely, and never cleaned up: other code in the process may use libcurl.
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
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

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// RFC 9110 token characters: what a method or a header name may be made of.
bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
  });
}

bool has_line_break(std::string_view s) { return s.find_first_of("\r\n", 0) != std::string_view::npos || s.find('\0') != std::string_view::npos; }

struct CurlUrlFree {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

struct CurlStringFree {
  void operator()(char* p) const { curl_free(p); }
};

// Where a request goes, as logs and error details may show it.
struct Target {
  std::string scheme;
  std::string host;  // with ":port" when the URL gives one; no user:password
  std::string path;  // no query, no fragment
  std::string password;  // of a user:password@ in the URL: scrubbed from error texts
  std::string shown() const { return scheme + "://" + host + path; }
};

std::optional<std::string> url_part(CURLU* u, CURLUPart part) {
  char* raw = nullptr;
  if (curl_url_get(u, part, &raw, 0) != CURLUE_OK || !raw) return std::nullopt;
  std::unique_ptr<char, CurlStringFree> owned(raw);
  return std::string(raw);
}

// libcurl's own URL parser, so that what is checked here is what libcurl will send.
core::Result<Target> parse_target(const std::string& url) {
  auto bad = [](std::string why) {
    return core::Error::invalid_argument("the URL " + why + "; give an absolute http:// or https:// URL");
  };
  if (url.empty()) return bad("is empty");
  if (has_line_break(url) || std::any_of(url.begin(), url.end(), [](char c) { return c == ' '; }))
    return bad("contains spaces or line breaks");
  std::unique_ptr<CURLU, CurlUrlFree> u(curl_url());
  if (!u) throw std::bad_alloc();
  if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), CURLU_PATH_AS_IS | CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
    return bad("cannot be parsed");
  Target t;
  t.scheme = lower(url_part(u.get(), CURLUPART_SCHEME).value_or(""));
  if (t.scheme != "http" && t.scheme != "https") return bad("has the scheme \"" + clean_detail(t.scheme, {}, 20) + "\"");
  auto host = url_part(u.get(), CURLUPART_HOST);
  if (!host || host->empty()) return bad("has no host");
  t.host = *host;
  if (auto port = url_part(u.get(), CURLUPART_PORT)) t.host += ":" + *port;
  t.path = url_part(u.get(), CURLUPART_PATH).value_or("/");
  t.password = url_part(u.get(), CURLUPART_PASSWORD).value_or("");
  return t;
}

bool default_idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS";
}

// What one exchange produced. Lives on the stack of one attempt; curl's callbacks write into it.
struct Exchange {
  CURLcode code = CURLE_OK;
  char curl_error[CURL_ERROR_SIZE] = {};
  long status = 0;
  HttpHeaders headers;
  std::string body;
  std::size_t cap = 0;
  bool head = false;
  bool too_large = false;
  std::optional<std::uint64_t> declared_length;
  std::string_view upload;
  std::size_t upload_offset = 0;
  long request_bytes = 0;  // bytes of the request sent; 0 means the server saw nothing
};

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const std::size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {  // a new answer (also after 100 Continue): start over
    ex->headers.clear();
    ex->declared_length.reset();
    ex->status = 0;
    if (auto sp = line.find(' '); sp != std::string_view::npos) {
      auto code = line.substr(sp + 1, 3);
      std::from_chars(code.data(), code.data() + code.size(), ex->status);
    }
    return n;
  }
  line = trim(line);
  if (line.empty()) {
    // End of a final answer's headers: refuse an announced body above the cap before it comes.
    // A HEAD answer's Content-Length is the resource's, and no body follows.
    if (ex->status >= 200 && !ex->head && ex->declared_length && *ex->declared_length > ex->cap) {
      ex->too_large = true;
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    return n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name = lower(trim(line.substr(0, colon)));
  std::string value(trim(line.substr(colon + 1)));
  if (name == "content-length") {
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec == std::errc() && end == value.data() + value.size()) ex->declared_length = v;
  }
  ex->headers.emplace_back(std::move(name), std::move(value));
  return n;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const std::size_t n = size * count;
  if (n > ex->cap - std::min(ex->cap, ex->body.size())) {
    ex->too_large = true;
    return 0;  // aborts the transfer: an answer without Content-Length is never buffered whole
  }
  ex->body.append(data, n);
  return n;
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const std::size_t n = std::min(size * count, ex->upload.size() - ex->upload_offset);
  std::memcpy(buffer, ex->upload.data() + ex->upload_offset, n);
  ex->upload_offset += n;
  return n;
}

// libcurl rewinds the body when it resends on a reused connection that turned out dead.
int on_seek(void* user, curl_off_t offset, int origin) {
  auto* ex = static_cast<Exchange*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::uint64_t>(offset) > ex->upload.size())
    return CURL_SEEKFUNC_CANTSEEK;
  ex->upload_offset = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

// The wait a Retry-After header asks for (delay-seconds or an HTTP date), capped.
std::optional<milliseconds> retry_after(const HttpResponse& answer, milliseconds cap) {
  const std::string value = answer.header("retry-after");
  if (value.empty()) return std::nullopt;
  std::int64_t seconds = 0;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 9) return cap;  // more than 30 years: capped anyway
    std::from_chars(value.data(), value.data() + value.size(), seconds);
  } else {
    const std::time_t when = curl_getdate(value.c_str(), nullptr);
    if (when == -1) return std::nullopt;  // unreadable: the backoff decides
    seconds = std::max<std::int64_t>(0, static_cast<std::int64_t>(when - std::time(nullptr)));
  }
  return std::min<milliseconds>(std::chrono::seconds(seconds), cap);
}

struct CurlEasyFree {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
using EasyPtr = std::unique_ptr<CURL, CurlEasyFree>;

struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistFree>;

std::string attempts_text(int attempts) {
  return attempts == 1 ? "" : " after " + std::to_string(attempts) + " attempts";
}

long clamp_ms(milliseconds d) {
  return static_cast<long>(std::clamp<milliseconds::rep>(d.count(), 1, std::numeric_limits<long>::max()));
}

}  // namespace

std::string HttpResponse::header(std::string_view lower_case_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_case_name) return value;
  return {};
}

struct HttpClient::Impl {
  HttpClientOptions options;
  CircuitBreaker breaker;
  std::mutex pool_mutex;
  std::vector<EasyPtr> idle;

  explicit Impl(HttpClientOptions o)
      : options(std::move(o)), breaker(options.name, options.breaker) {
    options.retry.attempts = std::max(options.retry.attempts, 1);
  }

  // An easy handle from the idle pool (keeping its live connection) or a fresh one.
  class Lease {
   public:
    explicit Lease(Impl& owner) : owner_(owner) {
      {
        std::lock_guard lock(owner_.pool_mutex);
        if (!owner_.idle.empty()) {
          handle_ = std::move(owner_.idle.back());
          owner_.idle.pop_back();
        }
      }
      if (!handle_) handle_.reset(curl_easy_init());
      if (!handle_) throw std::bad_alloc();
    }
    ~Lease() {
      std::lock_guard lock(owner_.pool_mutex);
      if (owner_.idle.size() < owner_.options.max_idle_connections) owner_.idle.push_back(std::move(handle_));
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    CURL* handle() const { return handle_.get(); }

   private:
    Impl& owner_;
    EasyPtr handle_;
  };

  // Secrets replaced by ***, whitespace collapsed, bounded: fit for a message or a log detail.
  static std::string scrub(std::string text, const std::vector<std::string>& secrets) {
    for (const auto& secret : secrets)
      for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 3))
        text.replace(pos, secret.size(), "***");
    return clean_detail(std::move(text), {}, kMaxDetailChars);
  }

  void perform(CURL* h, const std::string& method, bool with_body, const HttpRequest& req, curl_slist* headers,
               milliseconds timeout, milliseconds connect_timeout, Exchange& ex) const {
    curl_easy_reset(h);  // keeps the live connection
    curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);  // "a/../b" may be a name (an S3 key), not a path to tidy
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, options.user_agent.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // worker threads: no SIGALRM for DNS timeouts
#if LIBCURL_VERSION_NUM >= 0x075500                // 7.85.0
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    if (options.accept_compressed) curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    if (timeout.count() > 0) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, clamp_ms(timeout));
    if (connect_timeout.count() > 0) curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, clamp_ms(connect_timeout));
    if (ex.head) {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (with_body) {
      ex.upload = req.body;
      if (method == "PUT") {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      } else {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
        if (method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
      }
      curl_easy_setopt(h, CURLOPT_READFUNCTION, &on_read);
      curl_easy_setopt(h, CURLOPT_READDATA, &ex);
      curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, &on_seek);
      curl_easy_setopt(h, CURLOPT_SEEKDATA, &ex);
    } else if (method != "GET") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ex.curl_error);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &ex);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &ex);
    ex.code = curl_easy_perform(h);
    if (ex.code == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &ex.status);
    curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &ex.request_bytes);
    // ex and the header list go away; the handle stays in the pool.
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, nullptr);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, nullptr);
    curl_easy_setopt(h, CURLOPT_READDATA, nullptr);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, nullptr);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  }

  void log_attempt(const std::string& method, const Target& target, bool redact_path, int attempt, const Exchange& ex,
                   milliseconds took) const {
    if (!log::enabled(log::Level::Debug)) return;
    boost::json::object fields{{"client", options.name},
                               {"method", method},
                               {"host", target.host},
                               {"path", redact_path ? std::string("/...") : target.path},
                               {"attempt", attempt},
                               {"ms", took.count()}};
    if (ex.too_large)
      fields["error"] = "answer too large";
    else if (ex.code != CURLE_OK)
      fields["error"] = curl_easy_strerror(ex.code);
    else
      fields["status"] = ex.status;
    log::debug("http request", std::move(fields));
  }

  core::Result<HttpResponse> send(const HttpRequest& req, steady_clock::time_point deadline) {
    // ---- checks: bad input sends nothing and counts for nothing -----------------------------
    std::string method = req.method;
    for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!is_token(method))
      return core::Error::invalid_argument("the HTTP method \"" + clean_detail(req.method, {}, 20) +
                                           "\" is invalid; use GET, HEAD, POST, PUT, PATCH or DELETE");
    auto target = parse_target(req.url);
    if (!target) return std::move(target).failure();
    const bool head = method == "HEAD";
    if (head && !req.body.empty())
      return core::Error::invalid_argument("a HEAD request cannot carry a body; use GET, POST or PUT to send one");

    const bool with_body = !head && (!req.body.empty() || method == "POST" || method == "PUT" || method == "PATCH");

    std::vector<std::string> secrets;
    if (!target->password.empty()) secrets.push_back(target->password);
    bool has_content_type = false, has_expect = false;
    SlistPtr headers;
    auto add = [&](const std::string& line) {
      curl_slist* next = curl_slist_append(headers.get(), line.c_str());
      if (!next) throw std::bad_alloc();
      if (!headers) headers.reset(next);  // later appends keep the same head
    };
    for (const auto& [name, value] : req.headers) {
      if (!is_token(name))
        return core::Error::invalid_argument("the header name \"" + clean_detail(name, {}, 40) +
                                             "\" is invalid; use letters, digits and '-' only");
      if (has_line_break(value))
        return core::Error::invalid_argument("the value of header " + name +
                                             " contains a line break; send it on one line");
      const bool secret = std::any_of(std::begin(kAlwaysRedacted), std::end(kAlwaysRedacted),
                                      [&](std::string_view r) { return iequals(r, name); }) ||
                          std::any_of(req.redact.begin(), req.redact.end(), [&](const std::string& r) { return iequals(r, name); });
      if (secret && !value.empty()) {
        secrets.push_back(value);
        // "Bearer <token>": the token alone may turn up in a text as well.
        if (auto sp = value.rfind(' '); sp != std::string::npos && value.size() - sp > 8) secrets.push_back(value.substr(sp + 1));
      }
      has_content_type = has_content_type || iequals(name, "content-type");
      has_expect = has_expect || iequals(name, "expect");
      // "Name;" is libcurl's spelling of a header sent with an empty value ("Name:" would remove it).
      add(value.empty() ? name + ";" : name + ": " + value);
    }
    if (!has_expect) add("Expect:");  // no 100-continue round trip before a body
    // Without it, libcurl would label every body a form (application/x-www-form-urlencoded).
    if (with_body && !has_content_type) add("Content-Type:");
    const bool idempotent = req.idempotent.value_or(default_idempotent(method));
    const std::size_t cap = req.max_response_bytes ? req.max_response_bytes : options.max_response_bytes;

    if (steady_clock::now() >= deadline)
      return core::Error::timeout("no time was left to call " + options.name + "; nothing was sent").with_code("Timeout");
    auto permit = breaker.admit();
    if (!permit)
      return core::Error::unavailable(permit.error() + "; nothing was sent").with_code("CircuitOpen");

    Lease lease(*this);
    for (int attempt = 1;; ++attempt) {
      const auto start = steady_clock::now();
      milliseconds timeout = req.timeout;
      if (deadline != steady_clock::time_point::max()) {
        // At least 1 ms: a sleep that overslept the deadline must not leave the attempt unbounded.
        const auto left = std::max(std::chrono::ceil<milliseconds>(deadline - start), milliseconds(1));
        if (timeout.count() <= 0 || left < timeout) timeout = left;
      }
      milliseconds connect_timeout = req.connect_timeout;
      if (timeout.count() > 0 && (connect_timeout.count() <= 0 || connect_timeout > timeout)) connect_timeout = timeout;

      Exchange ex;
      ex.cap = cap;
      ex.head = head;
      perform(lease.handle(), method, with_body, req, headers.get(), timeout, connect_timeout, ex);
      const auto now = steady_clock::now();
      log_attempt(method, *target, req.redact_path, attempt, ex, std::chrono::duration_cast<milliseconds>(now - start));

      if (ex.too_large) {
        permit.record_success();  // it answered: the backend is up
        return core::Error::refused(options.name + " sent an answer larger than the limit of " + std::to_string(cap) +
                                        " bytes; it was not kept",
                                    method + " " + target->shown() + ": " +
                                        (ex.declared_length ? "Content-Length " + std::to_string(*ex.declared_length)
                                                            : std::string("no Content-Length")))
            .with_code("ResponseTooLarge");
      }

      std::optional<HttpResponse> answer;
      bool retryable = false;
      if (ex.code != CURLE_OK) {
        const bool nothing_sent = ex.request_bytes == 0 || ex.code == CURLE_COULDNT_CONNECT ||
                                  ex.code == CURLE_COULDNT_RESOLVE_HOST || ex.code == CURLE_COULDNT_RESOLVE_PROXY;
        retryable = retryable_curl_error(ex.code) && (idempotent || nothing_sent);
      } else {
        answer.emplace();
        answer->status = ex.status;
        answer->headers = std::move(ex.headers);
        answer->body = std::move(ex.body);
        answer->attempts = attempt;
        retryable = idempotent && std::find(options.retry_statuses.begin(), options.retry_statuses.end(), ex.status) !=
                                      options.retry_statuses.end();
      }

      if (retryable) {
        std::optional<milliseconds> delay;
        if (attempt < options.retry.attempts) {
          if (auto asked = answer ? retry_after(*answer, options.retry_after_cap) : std::nullopt) {
            if (deadline - now > *asked) delay = asked;  // a wait past the deadline is no use
          } else {
            delay = retry_delay(options.retry, attempt, now, deadline);
          }
        }
        if (delay) {
          sleep_for_retry(*delay);
          continue;
        }
      }

      if (answer) {
        const long s = answer->status;
        if (s == 500 || s == 502 || s == 503 || s == 504)
          permit.record_failure();
        else
          permit.record_success();
        return std::move(*answer);
      }
      permit.record_failure();
      return transport_error(method, *target, ex, attempt, timeout, secrets);
    }
  }

  core::Error transport_error(const std::string& method, const Target& target, const Exchange& ex, int attempts,
                              milliseconds timeout, const std::vector<std::string>& secrets) const {
    const std::string why = scrub(ex.curl_error[0] ? std::string(ex.curl_error) : curl_easy_strerror(ex.code), secrets);
    const std::string detail = method + " " + target.shown() + ": " + why;
    if (ex.code == CURLE_OPERATION_TIMEDOUT)
      return core::Error::timeout(options.name + " did not answer within " + std::to_string(timeout.count()) + " ms" +
                                      attempts_text(attempts) + "; try again later",
                                  detail)
          .with_code("Timeout");
    const bool connect = ex.code == CURLE_COULDNT_CONNECT || ex.code == CURLE_COULDNT_RESOLVE_HOST ||
                         ex.code == CURLE_COULDNT_RESOLVE_PROXY;
    if (connect)
      return core::Error::unavailable("could not reach " + options.name + attempts_text(attempts) + " (" +
                                          curl_easy_strerror(ex.code) + "); check that it is running and reachable",
                                      detail)
          .with_code("ConnectionFailed");
    return core::Error::unavailable("the exchange with " + options.name + " failed" + attempts_text(attempts) + " (" +
                                        curl_easy_strerror(ex.code) + "); try again later",
                                    detail)
        .with_code("TransportError");
  }
};

HttpClient::HttpClient(HttpClientOptions options) {
  ensure_curl();
  impl_ = std::make_unique<Impl>(std::move(options));
}

HttpClient::~HttpClient() = default;

core::Result<HttpResponse> HttpClient::send(const HttpRequest& request, steady_clock::time_point deadline) const {
  return impl_->send(request, deadline);
}

const CircuitBreaker& HttpClient::breaker() const { return impl_->breaker; }
const std::string& HttpClient::name() const { return impl_->options.name; }

}  // namespace mcpd::infra
