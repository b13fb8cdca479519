// The "openai" embedder: POST {base_url}/embeddings through infra/http_client, in batches, with
// retries of transient failures (429, 500, 502, 503, 504, network errors) using exponential backoff
// with full jitter or the endpoint's Retry-After. Works with OpenAI, Ollama, vLLM and llama.cpp server.
#include "packs/knowledge/embed/embedder.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "infra/http_client.hpp"
#include "infra/masking.hpp"

namespace mcpd::packs::knowledge {

namespace {

namespace json = boost::json;

constexpr std::chrono::milliseconds kBackoffCap{10000};
constexpr std::chrono::milliseconds kRetryAfterCap{10000};
constexpr std::size_t kMaxResponseBytes = std::size_t{256} << 20;  // a runaway answer is an error
constexpr std::size_t kMaxDetailChars = 300;                      // of an endpoint's error text

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

class OpenAiEmbedder final : public Embedder {
 public:
  explicit OpenAiEmbedder(OpenAiEmbedderOptions options)
      : options_(std::move(options)), dimension_(options_.dimension) {
    std::string base = options_.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (base.empty()) throw EmbeddingError("the openai embedder needs a base_url such as https://api.openai.com/v1");
    endpoint_ = base + "/embeddings";
    shown_endpoint_ = shown_url(endpoint_);
    options_.batch_size = std::max<std::size_t>(options_.batch_size, 1);
    options_.max_attempts = std::max(options_.max_attempts, 1);

    infra::HttpClientOptions http;
    http.name = "the embeddings endpoint " + shown_endpoint_;  // the client's messages begin with it
    http.retry = infra::RetryPolicy{options_.max_attempts, options_.backoff_base, kBackoffCap};
    http.retry_after_cap = kRetryAfterCap;
    http.retry_statuses = {429, 500, 502, 503, 504};  // inference servers answer 500 when overloaded
    http.max_response_bytes = kMaxResponseBytes;
    http.accept_compressed = true;
    try {
      client_ = std::make_unique<infra::HttpClient>(std::move(http));
    } catch (const std::exception& e) {
      throw EmbeddingError(e.what());
    }

    request_.method = "POST";
    request_.url = endpoint_;
    request_.idempotent = true;  // the same texts give the same vectors: safe to send again
    request_.timeout = options_.timeout;
    request_.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    if (!options_.api_key.empty()) request_.headers.emplace_back("Authorization", "Bearer " + options_.api_key);
  }

  std::string provider() const override { return "openai"; }
  std::string model() const override { return options_.model; }
  std::size_t dimension() const override { return dimension_.load(std::memory_order_acquire); }

  std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) override {
    std::vector<std::vector<float>> out;
    if (texts.empty()) return out;
    out.reserve(texts.size());
    for (std::size_t start = 0; start < texts.size(); start += options_.batch_size) {
      const std::size_t end = std::min(texts.size(), start + options_.batch_size);
      auto vectors = embed_batch(texts, start, end);
      for (auto& v : vectors) out.push_back(std::move(v));
    }
    return out;
  }

 private:
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

  static std::string attempts_text(int attempts) {
    return attempts == 1 ? "" : " after " + std::to_string(attempts) + " attempts";
  }

  std::vector<std::vector<float>> embed_batch(const std::vector<std::string>& texts, std::size_t start,
                                              std::size_t end) {
    infra::HttpRequest request = request_;
    request.body = request_body(texts, start, end);
    auto answer = client_->send(request);
    if (!answer) {
      if (answer.cancelled()) throw EmbeddingError("the embedding request was cancelled");
      const core::Error& e = answer.error();
      if (e.code == "ResponseTooLarge")
        throw EmbeddingError("the embeddings endpoint " + shown_endpoint_ + " sent an answer larger than " +
                             std::to_string(kMaxResponseBytes >> 20) + " MiB");
      throw EmbeddingError(clean_detail(e.message, options_.api_key));
    }
    if (answer->ok()) return parse_answer(answer->body, end - start);
    std::string detail = clean_detail(error_detail(answer->body), options_.api_key);
    throw EmbeddingError("the embeddings endpoint " + shown_endpoint_ + " answered HTTP " +
                         std::to_string(answer->status) + attempts_text(answer->attempts) +
                         (detail.empty() ? " with no error message" : ": " + detail));
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
  std::unique_ptr<infra::HttpClient> client_;  // thread-safe: embed() may run on several threads
  infra::HttpRequest request_;                 // everything but the body, the same for every batch
};

}  // namespace

std::unique_ptr<Embedder> make_openai_embedder(OpenAiEmbedderOptions options) {
  return std::make_unique<OpenAiEmbedder>(std::move(options));
}

}  // namespace mcpd::packs::knowledge
