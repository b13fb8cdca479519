// S3Store: S3Client behind a circuit breaker and retries; S3 errors become StoreErrors that say
// what to do. See s3_store.hpp.
#include "packs/storage/s3_store.hpp"

#include <charconv>
#include <exception>
#include <optional>
#include <utility>
#include <variant>

#include "packs/storage/encoding.hpp"

namespace mcpd::packs::storage {

namespace {

S3ClientConfig with_timeout(S3ClientConfig config, long timeout_ms) {
  config.timeout_ms = timeout_ms;
  return config;
}

bool is_credentials_code(const std::string& code) {
  return code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || code == "ExpiredToken" ||
         code == "InvalidToken" || code == "TokenRefreshRequired" || code == "AuthorizationHeaderMalformed";
}

// A failure of the endpoint itself (down, overloaded, unreachable), as opposed to an answer about
// the request (no such key, access denied): only these count against the breaker.
bool is_backend_failure(const S3Error& e) { return e.retryable; }

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

}  // namespace

StoreError store_error_from(const S3Error& e) {
  const std::string& code = e.code;
  std::string message = e.what();
  if (code == "InvalidArgument") return {ErrorKind::InvalidArgument, message, code};
  if (code == "NoSuchKey" || (code == "NotFound" && e.http_status == 404))
    return {ErrorKind::NotFound, message + "; list the bucket to see its keys", code == "NotFound" ? "NoSuchKey" : code};
  if (code == "NoSuchBucket") return {ErrorKind::NotFound, message + "; check the bucket name", code};
  if (is_credentials_code(code))
    return {ErrorKind::Denied,
            message + "; check the store's credentials (access_key_id and secret_access_key, or AWS_ACCESS_KEY_ID and "
                      "AWS_SECRET_ACCESS_KEY)",
            code};
  if (code == "AccessDenied" || code == "Forbidden" || e.http_status == 403)
    return {ErrorKind::Denied, message + "; check the store's credentials and the bucket's permissions", code};
  if (code == "ObjectTooLarge") return {ErrorKind::TooLarge, message, code};
  if (code == "InvalidRange") return {ErrorKind::InvalidArgument, message + "; ask for bytes inside the object", code};
  if (e.retryable) return {ErrorKind::Unavailable, message + "; try again later", code};
  return {ErrorKind::Failed, message, code};
}

S3Store::S3Store(S3StoreOptions options)
    : options_(std::move(options)),
      client_(std::make_unique<S3Client>(options_.client)),
      health_client_(std::make_unique<S3Client>(
          with_timeout(options_.client, options_.client.timeout_ms > 0
                                            ? std::min(options_.client.timeout_ms, options_.health_timeout_ms)
                                            : options_.health_timeout_ms))),
      breaker_("s3 store '" + options_.name + "' at " + client_->endpoint(),
               infra::CircuitBreakerConfig{options_.breaker_failures, options_.breaker_open_for}) {}

S3Store::~S3Store() = default;

std::string S3Store::location() const { return client_->endpoint(); }

template <class T, class Fn>
Result<T> S3Store::call(bool idempotent, Fn&& fn) {
  auto permit = breaker_.admit();
  if (!permit) return StoreError{ErrorKind::Unavailable, permit.error() + "; nothing was sent", "CircuitOpen"};
  using Attempt = std::variant<T, S3Error>;
  auto once = [&]() -> Attempt {
    try {
      return Attempt(std::in_place_index<0>, fn());
    } catch (const S3Error& e) {
      return Attempt(std::in_place_index<1>, e);
    }
  };
  auto retryable = [](const Attempt& a) { return a.index() == 1 && std::get<1>(a).retryable; };
  try {
    // The retries stay within one timeout of the call's start: a slow endpoint is not asked again.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.client.timeout_ms > 0
                                                                                        ? options_.client.timeout_ms
                                                                                        : 30000);
    const infra::RetryPolicy policy{idempotent ? std::max(1, options_.retries) : 1};
    Attempt outcome = infra::retry_call(policy, once, retryable, deadline);
    if (outcome.index() == 0) {
      permit.record_success();
      return std::move(std::get<0>(outcome));
    }
    const S3Error& e = std::get<1>(outcome);
    if (is_backend_failure(e)) permit.record_failure();
    else if (e.code != "InvalidArgument") permit.record_success();  // it answered: the endpoint is fine
    return store_error_from(e);
  } catch (const std::exception& e) {  // could not even build the request (no libcurl handle, ...)
    return StoreError{ErrorKind::Failed, std::string("the S3 request could not be made: ") + e.what(), "InternalError"};
  }
}

Result<ListPage> S3Store::list(const ListRequest& r) {
  return call<ListPage>(true, [&] {
    ListObjectsResult res = client_->list_objects_v2(r.bucket, r.prefix, r.delimiter, r.max_keys, r.continuation_token);
    ListPage page;
    page.objects.reserve(res.objects.size());
    for (auto& o : res.objects)
      page.objects.push_back(ObjectSummary{std::move(o.key), o.size, std::move(o.last_modified), std::move(o.etag)});
    page.common_prefixes = std::move(res.common_prefixes);
    page.is_truncated = res.is_truncated;
    page.next_continuation_token = std::move(res.next_continuation_token);
    return page;
  });
}

Result<ObjectData> S3Store::get(const std::string& bucket, const std::string& key, const std::string& range) {
  auto out = call<ObjectData>(true, [&] {
    GetObjectResult res = client_->get_object(bucket, key, range);
    ObjectData data;
    data.info.key = key;
    data.info.content_type = res.content_type;
    data.info.etag = res.etag;
    data.info.last_modified = http_date_to_iso8601(res.last_modified);
    data.content_range = res.content_range;
    data.info.size = res.content_range.empty() ? res.bytes.size() : total_of(res.content_range).value_or(res.content_length);
    data.bytes = std::move(res.bytes);
    return data;
  });
  if (!out && out.error().kind == ErrorKind::TooLarge) {
    StoreError e = out.error();
    e.message += " (e.g. range \"bytes=0-" + std::to_string(options_.client.max_object_bytes - 1) + "\")";
    return e;
  }
  return out;
}

Result<ObjectMeta> S3Store::head(const std::string& bucket, const std::string& key) {
  return call<ObjectMeta>(true, [&] {
    auto res = client_->head_object(bucket, key);
    return ObjectMeta{key, res.content_length, res.content_type, res.etag, http_date_to_iso8601(res.last_modified)};
  });
}

Result<PutOutcome> S3Store::put(const std::string& bucket, const std::string& key, std::string_view bytes,
                                const std::string& content_type) {
  return call<PutOutcome>(false, [&] {
    std::string etag = client_->put_object(bucket, key, bytes, content_type.empty() ? "application/octet-stream" : content_type);
    return PutOutcome{std::move(etag), bytes.size()};
  });
}

Result<Done> S3Store::remove(const std::string& bucket, const std::string& key) {
  return call<Done>(false, [&] {
    client_->delete_object(bucket, key);
    return Done{};
  });
}

Result<std::string> S3Store::presign_get(const std::string& bucket, const std::string& key, long expires_seconds) {
  // Signed here, nothing is sent: the breaker has no say.
  try {
    return client_->presign_get(bucket, key, expires_seconds);
  } catch (const S3Error& e) {
    return store_error_from(e);
  } catch (const std::exception& e) {
    return StoreError{ErrorKind::InvalidArgument, e.what(), "InvalidArgument"};
  }
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
  try {
    health_client_->list_objects_v2(probe_bucket, "", "", 1);
    permit.record_success();
    return "ok";
  } catch (const S3Error& e) {
    if (is_backend_failure(e)) permit.record_failure();
    else permit.record_success();
    if (e.code == "Timeout") return "timed out at " + client_->endpoint();
    if (e.code == "ConnectionFailed") {
      const std::string what = e.what();
      return what.find("refused") != std::string::npos ? "connection refused at " + client_->endpoint()
                                                        : "cannot reach " + client_->endpoint();
    }
    if (e.code == "NoSuchBucket" || (e.http_status == 404)) return "bucket " + probe_bucket + " not found";
    if (is_credentials_code(e.code) || e.code == "AccessDenied" || e.http_status == 403)
      return "access denied (" + e.code + "): check the credentials";
    if (e.http_status > 0) return "S3 answered HTTP " + std::to_string(e.http_status) + (e.code.empty() ? "" : " " + e.code);
    return "cannot reach " + client_->endpoint() + " (" + e.code + ")";
  } catch (const std::exception& e) {
    return std::string("error: ") + e.what();
  }
}

}  // namespace mcpd::packs::storage
