// Small cryptographic helpers over OpenSSL: random ids, constant-time comparison, digests.
#pragma once
#include <string>
#include <string_view>

// base64_encode lives in infra/base64.hpp now; included here for the callers that found it here.
#include "infra/base64.hpp"

namespace mcpd::infra {

// `bytes` random bytes from the OS CSPRNG, hex-encoded (session ids, tokens).
std::string random_hex(std::size_t bytes);
// Compares secrets without leaking where they differ through timing.
bool constant_time_equals(std::string_view a, std::string_view b);
std::string sha256_hex(std::string_view data);
// HMAC-SHA256: the 32 raw bytes (to chain, as AWS SigV4 derives its keys), or hex.
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string hmac_sha256_hex(std::string_view key, std::string_view data);
// Lower-case hex of raw bytes.
std::string hex_encode(std::string_view bytes);

}  // namespace mcpd::infra
