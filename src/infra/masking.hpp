// Keeps secrets and personal data out of logs: masks secret-looking fields and values in text.
#pragma once
#include <boost/json.hpp>
#include <string>
#include <string_view>

namespace mcpd::infra {

// True for keys such as "password", "api_key", "Authorization", "token", "secret".
bool is_secret_key(std::string_view key);
// Masks bearer tokens, key=value secrets, e-mail addresses and long hex/base64 tokens in free text.
std::string mask_text(std::string_view text);
// Masks, recursively, the values of secret keys and the secrets inside string values.
void mask_json(boost::json::value& value);
// "abcd…" style preview for showing which secret is configured without revealing it.
std::string mask_secret(std::string_view secret);

}  // namespace mcpd::infra
