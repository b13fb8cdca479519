// Cursors are base64url(varint offset ‖ first 12 bytes of HMAC-SHA256(key, list ‖ offset)): short and opaque.
// OpenSSL is called directly because core may not include infra.
#include "core/cursor.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace mcpd::core {

namespace {
constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// 96 bits of tag: forging one is out of reach, and a cursor for offset 100 stays 18 characters.
constexpr std::size_t kTagBytes = 12;
constexpr std::size_t kMaxVarintBytes = 10;  // a 64-bit offset
constexpr std::size_t kKeyBytes = 32;

std::string b64url(std::string_view in) {
  std::string out;
  unsigned val = 0;
  int bits = -6;
  for (unsigned char c : in) {
    val = ((val << 8) | c) & 0xFFFFu;
    bits += 8;
    while (bits >= 0) {
      out.push_back(kAlphabet[(val >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) out.push_back(kAlphabet[((val << 8) >> (bits + 8)) & 0x3F]);
  return out;
}

// Strict: only the canonical spelling decodes, so changing any character changes the bytes or fails.
std::optional<std::string> unb64url(std::string_view in) {
  std::string out;
  unsigned val = 0;
  int bits = 0;
  for (char c : in) {
    auto pos = kAlphabet.find(c);
    if (pos == std::string_view::npos) return std::nullopt;
    val = ((val << 6) | static_cast<unsigned>(pos)) & 0xFFFu;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
    }
  }
  // A lone trailing character (6 bits) cannot end an encoding; unused low bits must be zero.
  if (bits >= 6 || (val & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string varint(std::size_t v) {
  std::string out;
  do {
    unsigned char b = v & 0x7F;
    v >>= 7;
    out.push_back(static_cast<char>(v ? (b | 0x80) : b));
  } while (v);
  return out;
}

std::optional<std::size_t> unvarint(std::string_view in) {
  std::size_t v = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    auto b = static_cast<unsigned char>(in[i]);
    if (i * 7 >= sizeof(std::size_t) * 8) return std::nullopt;
    v |= static_cast<std::size_t>(b & 0x7F) << (i * 7);
    if (!(b & 0x80)) return i + 1 == in.size() ? std::optional(v) : std::nullopt;
  }
  return std::nullopt;
}

std::string tag(std::string_view key, std::string_view list, std::string_view payload) {
  // The list name is length-prefixed so that no (list, payload) pair spells another.
  std::string data = "mcpd-cursor\n" + std::to_string(list.size()) + ":" + std::string(list) + std::string(payload);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), out, &len))
    throw std::runtime_error("HMAC-SHA256 failed inside OpenSSL");
  return std::string(reinterpret_cast<const char*>(out), kTagBytes);
}

std::string random_key() {
  std::string key(kKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1)
    throw std::runtime_error("the OS random generator failed");
  return key;
}
}  // namespace

CursorCodec::CursorCodec(std::string key) : key_(std::move(key)) {}

std::string CursorCodec::encode(std::size_t offset, std::string_view list) const {
  std::string payload = varint(offset);
  return b64url(payload + tag(key_, list, payload));
}

std::optional<std::size_t> CursorCodec::decode(std::string_view cursor, std::string_view list) const {
  // Bound the work before decoding: a cursor is at most 30 characters.
  if (cursor.size() > ((kMaxVarintBytes + kTagBytes) * 4 + 2) / 3) return std::nullopt;
  auto raw = unb64url(cursor);
  if (!raw || raw->size() <= kTagBytes) return std::nullopt;
  std::string_view bytes(*raw);
  std::string_view payload = bytes.substr(0, bytes.size() - kTagBytes);
  std::string expected = tag(key_, list, payload);
  if (CRYPTO_memcmp(expected.data(), bytes.data() + payload.size(), kTagBytes) != 0) return std::nullopt;
  return unvarint(payload);
}

const CursorCodec& process_cursors() {
  static const CursorCodec codec(random_key());
  return codec;
}

std::string encode_cursor(std::size_t offset, std::string_view list) { return process_cursors().encode(offset, list); }

std::optional<std::size_t> decode_cursor(std::string_view cursor, std::string_view list) {
  return process_cursors().decode(cursor, list);
}

}  // namespace mcpd::core
