// The storage pack (seed 003): audited access to object stores configured by name, a local folder
// by default and any S3-compatible endpoint, through the s3_* tools, with allow-lists, a size cap,
// writes only when enabled, and each store's health on /health.
#pragma once
#include <memory>
#include <string_view>

#include "core/pack.hpp"

namespace mcpd::packs::storage {

std::unique_ptr<core::Pack> make_pack();

// Whether an object is returned as text rather than as a base64 blob: its bytes are valid UTF-8
// without NUL bytes, and its content type is text-like (text/*, JSON, XML, YAML, JavaScript, ...),
// generic (application/octet-stream) or missing.
bool is_text_object(std::string_view bytes, std::string_view content_type);

}  // namespace mcpd::packs::storage
