// Opaque pagination cursors for the list methods: signed, so a client cannot forge or reuse one elsewhere.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace mcpd::core {

// Signs cursors with one key. The server uses one per process (process_cursors()); tests make their own.
class CursorCodec {
 public:
  explicit CursorCodec(std::string key);
  // `list` names what the cursor pages through ("tools", "resources", …); it is signed, not sent.
  std::string encode(std::size_t offset, std::string_view list) const;
  // nullopt for a cursor this codec did not issue for `list`: tampered, truncated, foreign or for another list.
  std::optional<std::size_t> decode(std::string_view cursor, std::string_view list) const;

 private:
  std::string key_;
};

// The process-wide codec with a random key made on first use: cursors do not survive a restart.
const CursorCodec& process_cursors();

std::string encode_cursor(std::size_t offset, std::string_view list = {});
std::optional<std::size_t> decode_cursor(std::string_view cursor, std::string_view list = {});

}  // namespace mcpd::core
