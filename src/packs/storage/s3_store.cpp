// S3Store: S3Client behind a circuit breaker and retries. The client's Errors already say what to
// do; this adds the breaker's refusals and keeps /health cheap. See s3_store.hpp.
#include "packs/storage/s3_store.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>

#include "infra/time.hpp"

namespace mcpd::packs::storage {

using core::Error;
using core::ErrorKind;

namespace {

S3ClientConfig with_timeout(S3ClientConfig config, long timeout_ms) {
  config.timeout_ms = timeout_ms;
  return config;
}

// The whole object's size from "bytes 0-9/100"; nullopt when the total is unknown ("*").
std::optional<std::uint64_t> total_of(const std::string& content_range) {
  const auto slash = content_range.rfind('/');
  if (slash == std::string::npos) return std::nullopt;
  std::uint64_t v = 0;
  const char* begin = content_range.data() + slash + 1;
  const char* end = content_range.data() + content_range.size();
  auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

// Whether a failure that is not transient was an answer of the endpoint (about the request: no
// such key, access denied), which shows the endpoint is up. A call refused before sending
// (InvalidArgument), never made (InternalError) or cut off for good (TransportError: TLS
// verification, ...) tells the breaker nothing either way.
bool endpoint_answered(const Error& e) {
  return e.code != "InvalidArgument" && e.code != "InternalError" && e.code != "TransportError";
}

}  // namespace

S3Store::S3Store(S3StoreOptions options)
    : options_(std::move(options)),
      client_(std::make_unique<S3Client>(options_.client)),
      health_client_(std::make_unique<S3Client>(
          with_timeout(options_.client, options_.client.timeout_ms > 0
                                            ? std::min(options_.client.timeout_ms, options_.health_timeout_ms)
                                            : options_.health_timeout_ms))),
      // The breaker's refusals reach the caller: they name the store, not its endpoint.
      breaker_("s3 store '" + options_.name + "'",
               infra::CircuitBreakerConfig{options_.breaker_failures, options_.breaker_open_for}) {}

S3Store::~S3Store() = default;

std::string S3Store::location() const { return client_->endpoint(); }

template <class Fn>
std::invoke_result_t<Fn&> S3Store::call(bool idempotent, Fn&& fn) {
  auto permit = breaker_.admit();
  if (!permit)
    return Error::unavailable(permit.error() + "; nothing was sent", "endpoint " + client_->endpoint()).with_code("CircuitOpen");
  // The retries stay within one timeout of the call's start: a slow endpoint is not asked again.
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(options_.client.timeout_ms > 0 ? options_.client.timeout_ms : 30000);
  const infra::RetryPolicy policy{idempotent ? std::max(1, options_.retries) : 1};
  auto outcome = infra::retry_call(
      policy, fn, [](const auto& r) { return r.failed() && is_transient(r.error()); }, deadline);
  if (outcome.ok()) permit.record_success();
  else if (outcome.failed() && is_transient(outcome.error())) permit.record_failure();
  else if (outcome.failed() && endpoint_answered(outcome.error())) permit.record_success();  // it answered: the endpoint is fine
  return outcome;
}

Result<ListPage> S3Store::list(const ListRequest& r) {
  return call(true, [&]() -> Result<ListPage> {
    auto res = client_->list_objects_v2(r.bucket, r.prefix, r.delimiter, r.max_keys, r.continuation_token);
    if (!res) return std::move(res).failure();
    ListPage page;
    page.objects.reserve(res->objects.size());
    for (auto& o : res->objects)
      page.objects.push_back(ObjectSummary{std::move(o.key), o.size, std::move(o.last_modified), std::move(o.etag)});
    page.common_prefixes = std::move(res->common_prefixes);
    page.is_truncated = res->is_truncated;
    page.next_continuation_token = std::move(res->next_continuation_token);
    return page;
  });
}

Result<ObjectData> S3Store::get(const std::string& bucket, const std::string& key, const std::string& range) {
  return call(true, [&]() -> Result<ObjectData> {
    auto res = client_->get_object(bucket, key, range);
    if (!res) return std::move(res).failure();
    ObjectData data;
    data.info.key = key;
    data.info.content_type = res->content_type;
    data.info.etag = res->etag;
    data.info.last_modified = infra::http_date_to_iso8601(res->last_modified);
    data.content_range = res->content_range;
    data.info.size =
        res->content_range.empty() ? res->bytes.size() : total_of(res->content_range).value_or(res->content_length);
    data.bytes = std::move(res->bytes);
    return data;
  });
}

Result<ObjectMeta> S3Store::head(const std::string& bucket, const std::string& key) {
  return call(true, [&]() -> Result<ObjectMeta> {
    auto res = client_->head_object(bucket, key);
    if (!res) return std::move(res).failure();
    return ObjectMeta{key, res->content_length, res->content_type, res->etag,
                      infra::http_date_to_iso8601(res->last_modified)};
  });
}

Result<PutOutcome> S3Store::put(const std::string& bucket, const std::string& key, std::string_view bytes,
                                const std::string& content_type) {
  return call(false, [&]() -> Result<PutOutcome> {
    auto etag =
        client_->put_object(bucket, key, bytes, content_type.empty() ? "application/octet-stream" : content_type);
    if (!etag) return std::move(etag).failure();
    return PutOutcome{std::move(*etag), bytes.size()};
  });
}

Status S3Store::remove(const std::string& bucket, const std::string& key) {
  return call(false, [&] { return client_->delete_object(bucket, key); });
}

Result<std::string> S3Store::presign_get(const std::string& bucket, const std::string& key, long expires_seconds) {
  // Signed here, nothing is sent: the breaker has no say.
  return client_->presign_get(bucket, key, expires_seconds);
}

std::string S3Store::health(const std::string& probe_bucket) {
  if (breaker_.state() == infra::CircuitBreaker::State::open) {
    const auto seconds = std::max<long long>(1, std::chrono::ceil<std::chrono::seconds>(breaker_.retry_after()).count());
    return "circuit open after " + std::to_string(breaker_.consecutive_failures()) + " consecutive failures, retrying in " +
           std::to_string(seconds) + " s";
  }
  if (probe_bucket.empty()) return "ok";  // nothing to probe without a bucket: the breaker is the signal
  // /health needs no authentication: at most one probe at a time and one per kHealthFresh, so a
  // flood of health checks neither occupies the workers nor multiplies requests to S3.
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(health_mutex_);
    if (probing_ || (!last_health_.empty() && now - last_probe_ < kHealthFresh))
      return last_health_.empty() ? "ok" : last_health_;
    probing_ = true;
  }
  std::string result = probe(probe_bucket);
  std::lock_guard lock(health_mutex_);
  last_health_ = result;
  last_probe_ = now;
  probing_ = false;
  return result;
}

std::string S3Store::probe(const std::string& probe_bucket) {
  auto permit = breaker_.admit();
  if (!permit) return "circuit half-open, a probe call is in progress";
  auto listed = health_client_->list_objects_v2(probe_bucket, "", "", 1);
  if (listed) {
    permit.record_success();
    return "ok";
  }
  const Error& e = listed.error();
  if (is_transient(e)) permit.record_failure();
  else if (endpoint_answered(e)) permit.record_success();
  // /health is for the operator: it names the endpoint (the tools' messages do not).
  if (e.kind == ErrorKind::Timeout) return "timed out at " + client_->endpoint();
  if (e.code == "ConnectionFailed")
    return e.detail.find("refused") != std::string::npos ? "connection refused at " + client_->endpoint()
                                                         : "cannot reach " + client_->endpoint();
  if (e.kind == ErrorKind::NotFound) return "bucket " + probe_bucket + " not found";
  if (e.kind == ErrorKind::Refused) return "access denied (" + e.code + "): check the credentials";
  if (e.code == "TransportError" || e.code == "InternalError")
    return "cannot reach " + client_->endpoint() + " (" + e.code + ")";
  return "S3 answered " + (e.code.empty() ? std::string("with an error") : e.code);
}

}  // namespace mcpd::packs::storage
