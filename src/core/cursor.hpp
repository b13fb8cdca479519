// Opaque pagination cursors for the list methods.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace mcpd::core {

std::string encode_cursor(std::size_t offset);
// nullopt for a cursor this server did not issue.
std::optional<std::size_t> decode_cursor(std::string_view cursor);

}  // namespace mcpd::core
