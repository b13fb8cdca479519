// The one rule every bucket name, object key and list prefix obeys, on every store and in every
// tool, whatever the allow-lists: a key names exactly one object in its bucket, so no server, proxy
// or file system on the way can resolve it to another object or another bucket.
//
// A key is refused when it
//   - is empty or longer than 1024 bytes (S3's limit), or is not valid UTF-8 (overlong forms such as
//     C0 AE for '.' are invalid UTF-8);
//   - contains a control character or NUL, or a backslash (a folder separator on Windows servers);
//   - starts with '/' or contains "//": servers and proxies collapse empty segments, so the key would
//     name another object. S3 itself treats "a//b" as a key of its own; refusing it is the safe choice;
//   - has a segment made only of dots and spaces ("." and "..", but also "..." and ".. ", which file
//     systems that trim trailing dots and spaces turn into "."/".."), alone or before ';' parameters;
//   - contains a URL escape ("%2e", "%2F", "%5c", "%c0%ae", "%u002e"): mcpd encodes keys itself, and a
//     server or proxy that decodes twice would see the decoded character. A '%' that starts no escape
//     ("100%.txt") is an ordinary character;
//   - breaks one of these rules once Unicode compatibility characters are normalised (NFKC), as some
//     servers do: "．．／" is "../".
// A segment that merely starts or ends with dots (".hidden", "..foo", "v1.2..3") is fine, and so is a
// trailing '/' (S3's folder markers). A list prefix obeys the same rules, except that it may be empty.
#pragma once
#include <string>
#include <string_view>

namespace mcpd::packs::storage {

inline constexpr std::size_t kMaxObjectKeyBytes = 1024;

// Why `key` cannot name an object (empty when it can), in one sentence saying what to do.
std::string object_key_problem(std::string_view key);

// Why `prefix` cannot be listed (empty when it can): the key rules, but the prefix may be empty.
std::string list_prefix_problem(std::string_view prefix);

// Why `bucket` is not a usable bucket name (empty when it is): 1 to 63 letters, digits, '.', '-' or
// '_', starting and ending with a letter or digit, so that it is one path segment and never "." or
// "..". Wider than S3's rules for new buckets (upper case and '_' exist in old ones and elsewhere).
std::string bucket_name_problem(std::string_view bucket);

}  // namespace mcpd::packs::storage
