// Keeps secrets and personal data out of logs: masks secret-looking fields and values in text.
#pragma once
#include <boost/json.hpp>
#include <initializer_list>
#include <string>
#include <string_view>

namespace mcpd::infra {

// True for keys such as "password", "api_key", "Authorization", "token", "secret".
bool is_secret_key(std::string_view key);
// Masks bearer tokens, key=value secrets, e-mail addresses and long hex/base64 tokens in free text.
std::string mask_text(std::string_view text);
// Masks, recursively, the values of secret keys and the secrets inside string values.
void mask_json(boost::json::value& value);
// Text from a remote service or a library made fit for one sentence of an error: each of `secrets`
// replaced by ***, whitespace runs collapsed to one space, no trailing period, at most `max_chars`
// bytes (cut on a UTF-8 boundary, then "...").
std::string clean_detail(std::string text, std::initializer_list<std::string_view> secrets, std::size_t max_chars = 300);
// "abcd…" style preview for showing which secret is configured without revealing it.
std::string mask_secret(std::string_view secret);

}  // namespace mcpd::infra
