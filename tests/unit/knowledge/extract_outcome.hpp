// Test helpers for the extractor tests: the outcome of extract() as text or as the refusal's reason.
#pragma once
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "packs/knowledge/extract/extract.hpp"

namespace mcpd::test {

inline mcpd::packs::knowledge::ExtractedText ok(std::string_view path, std::string_view content,
                                                const mcpd::packs::knowledge::ExtractOptions& options = {}) {
  auto outcome = mcpd::packs::knowledge::extract(path, content, options);
  if (!outcome) {
    ADD_FAILURE() << path << " refused: " << outcome.error().message;
    return {};
  }
  return std::move(outcome).value();
}

// The reason a file is refused: a Refused Error's message.
inline std::string refused(std::string_view path, std::string_view content,
                           const mcpd::packs::knowledge::ExtractOptions& options = {}) {
  auto outcome = mcpd::packs::knowledge::extract(path, content, options);
  if (outcome) {
    ADD_FAILURE() << path << " was not refused";
    return {};
  }
  EXPECT_EQ(outcome.error().kind, mcpd::core::ErrorKind::Refused) << path;
  return outcome.error().message;
}

}  // namespace mcpd::test
