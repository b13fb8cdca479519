// Test helpers for the source tests: a snapshot or a read that must succeed, and the message of a
// result that must be an Error.
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "core/result.hpp"
#include "packs/knowledge/sources/source.hpp"

namespace mcpd::test {

inline packs::knowledge::Snapshot snapshot_ok(packs::knowledge::Source& source) {
  auto r = source.snapshot();
  if (!r) {
    ADD_FAILURE() << source.name() << ": " << (r.failed() ? r.error().message : "cancelled");
    return {};
  }
  return std::move(r).value();
}

inline std::string read_ok(packs::knowledge::Source& source, const std::string& path) {
  auto r = source.read(path);
  if (!r) {
    ADD_FAILURE() << path << ": " << (r.failed() ? r.error().message : "cancelled");
    return {};
  }
  return std::move(r).value();
}

// The Error's message; a test failure (and "") when `r` succeeded.
template <typename T>
std::string failure_of(const core::Result<T>& r) {
  if (!r.failed()) {
    ADD_FAILURE() << "expected an Error";
    return {};
  }
  return r.error().message;
}

}  // namespace mcpd::test
