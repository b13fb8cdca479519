// The "openai" embedder: POST {base_url}/embeddings over libcurl, in batches, with retries of
// transient failures (429, 500, 502, 503, 504, network errors) using exponential backoff with full
// jitter or the endpoint's Retry-After. Works with OpenAI, Ollama, vLLM and llama.cpp server.
#include "packs/knowledge/embedder.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "infra/cron.hpp"  // backoff_delay
#include "infra/curl_errors.hpp"
#include "infra/masking.hpp"

namespace mcpd::packs::knowledge {

namespace {

namespace json = boost::json;

constexpr std::chrono::milliseconds kBackoffCap{10000};
constexpr std::chrono::milliseconds kRetryAfterCap{10000};
constexpr std::size_t kMaxResponseBytes = std::size_t{256} << 20;  // a runaway answer is an error
constexpr std::size_t kMaxIdleHandles = 4;                        // kept for connection reuse
constexpr std::size_t kMaxDetailChars = 300;                      // of an endpoint's error text

void ensure_curl() {
  // Initialised once, thread-safely, and never cleaned up: other code may still use libcurl.
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) throw EmbeddingError(std::string("could not initialise libcurl: ") + curl_easy_strerror(rc));
}

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 when it is not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlongs
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return n;
}

// Boost.JSON copies string bytes verbatim, so invalid UTF-8 would make the request body invalid
// JSON; such bytes become U+FFFD.
json::string to_json_text(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t n = utf8_sequence(s, i);
    if (n == 0) break;
    i += n;
  }
  if (i == s.size()) return json::string(s);
  std::string out(s.substr(0, i));
  while (i < s.size()) {
    std::size_t n = utf8_sequence(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return json::string(out);
}

// The endpoint URL as shown in messages: any user:password@ part removed.
std::string shown_url(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto authority = scheme + 3;
  auto end = url.find_first_of("/?#", authority);
  auto at = url.rfind('@', end == std::string::npos ? url.size() - 1 : end - 1);
  if (at == std::string::npos || at < authority) return url;
  return url.substr(0, authority) + url.substr(at + 1);
}

// Text from the endpoint or libcurl made safe for one sentence: the API key replaced, whitespace
// collapsed to single spaces, bounded length (cut on a UTF-8 boundary).
std::string clean_detail(std::string text, const std::string& api_key) {
  return infra::clean_detail(std::move(text), {api_key}, kMaxDetailChars);
}

// The endpoint's explanation of a failed request: error.message (OpenAI, vLLM), a bare "error"
// string (Ollama), else the start of the body.
std::string error_detail(const std::string& body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    const auto& obj = v.get_object();
    if (auto* err = obj.if_contains("error")) {
      if (err->is_string()) return std::string(err->get_string());
      if (err->is_object()) {
        if (auto* msg = err->get_object().if_contains("message"); msg && msg->is_string())
          return std::string(msg->get_string());
      }
    }
    if (auto* msg = obj.if_contains("message"); msg && msg->is_string()) return std::string(msg->get_string());
    if (auto* msg = obj.if_contains("detail"); msg && msg->is_string()) return std::string(msg->get_string());
  }
  return body;
}

bool retryable_status(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}


// What one HTTP exchange produced.
struct Exchange {
  CURLcode code = CURLE_OK;
  char curl_error[CURL_ERROR_SIZE] = {};
  long status = 0;
  std::string body;
  bool too_large = false;
  std::optional<std::chrono::milliseconds> retry_after;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const std::size_t n = size * count;
  if (ex->body.size() + n > kMaxResponseBytes) {
    ex->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  ex->body.append(data, n);
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const std::size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {  // a new response (after 100 Continue or a retry): start over
    ex->retry_after.reset();
    return n;
  }
  constexpr std::string_view kName = "retry-after:";
  if (line.size() < kName.size()) return n;
  for (std::size_t i = 0; i < kName.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != kName[i]) return n;
  std::string_view value = line.substr(kName.size());
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.remove_prefix(1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.remove_suffix(1);
  if (value.empty() || value.size() > 9) return n;  // absent, or an HTTP date: use the backoff
  std::int64_t seconds = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return n;
    seconds = seconds * 10 + (c - '0');
  }
  ex->retry_after = std::min<std::chrono::milliseconds>(std::chrono::seconds(seconds), kRetryAfterCap);
  return n;
}

struct CurlEasyFree {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
using EasyPtr = std::unique_ptr<CURL, CurlEasyFree>;

struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistFree>;

class OpenAiEmbedder final : public Embedder {
 public:
  explicit OpenAiEmbedder(OpenAiEmbedderOptions options)
      : options_(std::move(options)), dimension_(options_.dimension) {
    ensure_curl();
    std::string base = options_.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (base.empty()) throw EmbeddingError("the openai embedder needs a base_url such as https://api.openai.com/v1");
    endpoint_ = base + "/embeddings";
    shown_endpoint_ = shown_url(endpoint_);
    options_.batch_size = std::max<std::size_t>(options_.batch_size, 1);
    options_.max_attempts = std::max(options_.max_attempts, 1);
  }

  std::string provider() const override { return "openai"; }
  std::string model() const override { return options_.model; }
  std::size_t dimension() const override { return dimension_.load(std::memory_order_acquire); }

  std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) override {
    std::vector<std::vector<float>> out;
    if (texts.empty()) return out;
    out.reserve(texts.size());
    Lease lease(*this);
    SlistPtr headers = make_headers();
    for (std::size_t start = 0; start < texts.size(); start += options_.batch_size) {
      const std::size_t end = std::min(texts.size(), start + options_.batch_size);
      auto vectors = embed_batch(lease.handle(), headers.get(), texts, start, end);
      for (auto& v : vectors) out.push_back(std::move(v));
    }
    return out;
  }

 private:
  // An easy handle taken from the idle pool (keeping its live connection) or made fresh; embed()
  // stays re-entrant because each call holds its own handle.
  class Lease {
   public:
    explicit Lease(OpenAiEmbedder& owner) : owner_(owner) {
      {
        std::lock_guard lock(owner_.pool_mutex_);
        if (!owner_.idle_.empty()) {
          handle_ = std::move(owner_.idle_.back());
          owner_.idle_.pop_back();
        }
      }
      if (!handle_) handle_.reset(curl_easy_init());
      if (!handle_) throw EmbeddingError("could not create a libcurl handle for the embeddings endpoint");
    }
    ~Lease() {
      std::lock_guard lock(owner_.pool_mutex_);
      if (owner_.idle_.size() < kMaxIdleHandles) owner_.idle_.push_back(std::move(handle_));
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    CURL* handle() const { return handle_.get(); }

   private:
    OpenAiEmbedder& owner_;
    EasyPtr handle_;
  };

  SlistPtr make_headers() const {
    curl_slist* list = nullptr;
    auto add = [&](const std::string& h) {
      curl_slist* next = curl_slist_append(list, h.c_str());
      if (!next) {
        curl_slist_free_all(list);
        throw EmbeddingError("could not build the request headers for the embeddings endpoint");
      }
      list = next;
    };
    add("Content-Type: application/json");
    add("Accept: application/json");
    add("Expect:");  // no 100-continue round trip for large batches
    if (!options_.api_key.empty()) add("Authorization: Bearer " + options_.api_key);
    return SlistPtr(list);
  }

  std::string request_body(const std::vector<std::string>& texts, std::size_t start, std::size_t end) const {
    json::object body;
    body["model"] = options_.model;
    json::array input;
    input.reserve(end - start);
    for (std::size_t i = start; i < end; ++i) input.emplace_back(to_json_text(texts[i]));
    body["input"] = std::move(input);
    if (options_.dimension > 0) body["dimensions"] = static_cast<std::uint64_t>(options_.dimension);
    body["encoding_format"] = "float";
    return json::serialize(body);
  }

  void perform(CURL* h, curl_slist* headers, const std::string& body, Exchange& ex) const {
    curl_easy_reset(h);  // keeps live connections
    curl_easy_setopt(h, CURLOPT_URL, endpoint_.c_str());
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "mcpd");
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // whatever compression libcurl supports
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (options_.timeout.count() > 0) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85.0
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ex.curl_error);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &ex);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &ex);
    ex.code = curl_easy_perform(h);
    if (ex.code == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &ex.status);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);  // ex goes away; the handle stays
    curl_easy_setopt(h, CURLOPT_WRITEDATA, nullptr);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, nullptr);
  }

  static std::string attempts_text(int attempts) {
    return attempts == 1 ? "" : " after " + std::to_string(attempts) + " attempts";
  }

  std::vector<std::vector<float>> embed_batch(CURL* h, curl_slist* headers, const std::vector<std::string>& texts,
                                              std::size_t start, std::size_t end) {
    const std::string body = request_body(texts, start, end);
    for (int attempt = 1;; ++attempt) {
      Exchange ex;
      perform(h, headers, body, ex);
      const bool last = attempt >= options_.max_attempts;
      if (ex.code != CURLE_OK) {
        if (ex.too_large)
          throw EmbeddingError("the embeddings endpoint " + shown_endpoint_ + " sent an answer larger than " +
                               std::to_string(kMaxResponseBytes >> 20) + " MiB");
        if (!last && infra::retryable_curl_error(ex.code)) {
          std::this_thread::sleep_for(infra::backoff_delay(attempt - 1, options_.backoff_base, kBackoffCap));
          continue;
        }
        std::string why = ex.curl_error[0] ? std::string(ex.curl_error) : curl_easy_strerror(ex.code);
        throw EmbeddingError("could not reach the embeddings endpoint " + shown_endpoint_ + attempts_text(attempt) +
                             ": " + clean_detail(std::move(why), options_.api_key));
      }
      if (ex.status >= 200 && ex.status < 300) return parse_answer(ex.body, end - start);
      if (!last && retryable_status(ex.status)) {
        std::this_thread::sleep_for(ex.retry_after ? *ex.retry_after
                                                   : infra::backoff_delay(attempt - 1, options_.backoff_base, kBackoffCap));
        continue;
      }
      std::string detail = clean_detail(error_detail(ex.body), options_.api_key);
      throw EmbeddingError("the embeddings endpoint " + shown_endpoint_ + " answered HTTP " + std::to_string(ex.status) +
                           attempts_text(attempt) + (detail.empty() ? " with no error message" : ": " + detail));
    }
  }

  [[noreturn]] void malformed(const std::string& why) const {
    throw EmbeddingError("the embeddings endpoint " + shown_endpoint_ + " returned a malformed answer: " + why);
  }

  std::vector<std::vector<float>> parse_answer(const std::string& body, std::size_t count) {
    json::error_code ec;
    json::value root = json::parse(body, ec);
    if (ec) malformed("the body is not JSON (" + ec.message() + ")");
    if (!root.is_object()) malformed("the body is not a JSON object");
    const json::value* data = root.get_object().if_contains("data");
    if (!data || !data->is_array()) malformed("\"data\" is missing or not an array");
    const json::array& items = data->get_array();
    if (items.size() != count)
      malformed("\"data\" has " + std::to_string(items.size()) + " entries for " + std::to_string(count) + " inputs");

    std::vector<std::vector<float>> out(count);
    std::vector<bool> seen(count, false);
    std::size_t length = 0;
    for (std::size_t pos = 0; pos < items.size(); ++pos) {
      if (!items[pos].is_object()) malformed("entry " + std::to_string(pos) + " of \"data\" is not an object");
      const json::object& item = items[pos].get_object();
      std::size_t index = pos;  // servers that omit "index" answer in order
      if (const json::value* idx = item.if_contains("index")) {
        if (idx->is_int64() && idx->get_int64() >= 0) {
          index = static_cast<std::size_t>(idx->get_int64());
        } else if (idx->is_uint64()) {
          index = static_cast<std::size_t>(std::min<std::uint64_t>(idx->get_uint64(), SIZE_MAX));
        } else {
          malformed("entry " + std::to_string(pos) + " of \"data\" has an \"index\" that is not a non-negative integer");
        }
      }
      if (index >= count)
        malformed("index " + std::to_string(index) + " is out of range for " + std::to_string(count) + " inputs");
      if (seen[index]) malformed("index " + std::to_string(index) + " appears more than once");
      seen[index] = true;

      const json::value* emb = item.if_contains("embedding");
      if (!emb || !emb->is_array()) malformed("the embedding at index " + std::to_string(index) + " is not an array of numbers");
      const json::array& numbers = emb->get_array();
      if (numbers.empty()) malformed("the embedding at index " + std::to_string(index) + " is empty");
      std::vector<float>& vec = out[index];
      vec.reserve(numbers.size());
      for (const json::value& n : numbers) {
        double d = 0;
        if (n.is_double()) d = n.get_double();
        else if (n.is_int64()) d = static_cast<double>(n.get_int64());
        else if (n.is_uint64()) d = static_cast<double>(n.get_uint64());
        else malformed("the embedding at index " + std::to_string(index) + " contains something other than a number");
        float f = static_cast<float>(d);
        if (!std::isfinite(f)) malformed("the embedding at index " + std::to_string(index) + " contains a non-finite number");
        vec.push_back(f);
      }
      if (length == 0) {
        length = vec.size();
      } else if (vec.size() != length) {
        malformed("its embeddings have different lengths (" + std::to_string(length) + " and " +
                  std::to_string(vec.size()) + ")");
      }
    }
    check_dimension(length);
    return out;
  }

  void check_dimension(std::size_t length) {
    std::size_t expected = options_.dimension;
    if (expected == 0) {
      // Learn it from the first answer; a concurrent embed() may have learned it first.
      expected = 0;
      if (dimension_.compare_exchange_strong(expected, length, std::memory_order_acq_rel)) return;
    }
    if (length != expected)
      throw EmbeddingError("the endpoint returned " + std::to_string(length) + "-dimensional vectors, expected " +
                           std::to_string(expected));
  }

  OpenAiEmbedderOptions options_;
  std::string endpoint_;        // {base_url}/embeddings
  std::string shown_endpoint_;  // the same without credentials, for messages
  std::atomic<std::size_t> dimension_;
  std::mutex pool_mutex_;
  std::vector<EasyPtr> idle_;
};

}  // namespace

std::unique_ptr<Embedder> make_openai_embedder(OpenAiEmbedderOptions options) {
  return std::make_unique<OpenAiEmbedder>(std::move(options));
}

}  // namespace mcpd::packs::knowledge
