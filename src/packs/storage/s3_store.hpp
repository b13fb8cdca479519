// An S3 (or S3-compatible) endpoint as an ObjectStore: wraps S3Client with a circuit breaker (a dead
// endpoint costs callers nothing once it is open) and retries with backoff for the idempotent reads
// (list, get, head) on retryable errors only. Writes are sent once: a retried PUT or DELETE after a
// lost answer is harmless on S3, but the caller should see the failure and decide.
#pragma once
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>

#include "infra/resilience/circuit_breaker.hpp"
#include "infra/resilience/retry.hpp"
#include "packs/storage/object_store.hpp"
#include "packs/storage/s3_client.hpp"

namespace mcpd::packs::storage {

struct S3StoreOptions {
  std::string name = "s3";  // the store's name in messages
  S3ClientConfig client;    // endpoint, region, addressing, credentials, timeout_ms, max_object_bytes
  int breaker_failures = 5;
  std::chrono::milliseconds breaker_open_for{std::chrono::seconds(60)};
  int retries = 3;              // attempts in total for reads; 1 means no retry
  long health_timeout_ms = 2000;  // the /health probe's own, shorter timeout
};

class S3Store final : public ObjectStore {
 public:
  // Throws std::invalid_argument for an unusable endpoint.
  explicit S3Store(S3StoreOptions options);
  ~S3Store() override;

  std::string_view type() const override { return "s3"; }
  std::string location() const override;

  Result<ListPage> list(const ListRequest& request) override;
  Result<ObjectData> get(const std::string& bucket, const std::string& key, const std::string& range) override;
  Result<ObjectMeta> head(const std::string& bucket, const std::string& key) override;
  Result<PutOutcome> put(const std::string& bucket, const std::string& key, std::string_view bytes,
                         const std::string& content_type) override;
  Status remove(const std::string& bucket, const std::string& key) override;
  Result<std::string> presign_get(const std::string& bucket, const std::string& key, long expires_seconds) override;
  // One ListObjectsV2 of at most one key on `probe_bucket`, with a short timeout; none while the
  // breaker is open. The probe counts as a call for the breaker, so /health also closes it again.
  std::string health(const std::string& probe_bucket) override;

  const infra::CircuitBreaker& breaker() const { return breaker_; }

 private:
  // `fn` makes one attempt and returns a Result; call() adds the breaker and, for idempotent
  // calls, retries on transient failures.
  template <class Fn>
  std::invoke_result_t<Fn&> call(bool idempotent, Fn&& fn);

  S3StoreOptions options_;
  std::unique_ptr<S3Client> client_;
  std::unique_ptr<S3Client> health_client_;
  // The last health probe, reused for kHealthFresh (see health()).
  static constexpr std::chrono::seconds kHealthFresh{2};
  std::string probe(const std::string& probe_bucket);
  std::mutex health_mutex_;
  std::string last_health_;
  std::chrono::steady_clock::time_point last_probe_{};
  bool probing_ = false;
  infra::CircuitBreaker breaker_;
};

}  // namespace mcpd::packs::storage
