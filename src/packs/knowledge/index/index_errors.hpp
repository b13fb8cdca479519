// Where the knowledge index meets the request path: a SQLite failure (the file locked past the busy
// timeout, a full disk, a damaged file) becomes an Error with SQLite's own words in its detail, so
// that a search or a sync says what went wrong instead of throwing.
#pragma once
#include <string_view>
#include <type_traits>
#include <utility>

#include "core/result.hpp"
#include "infra/sqlite.hpp"

namespace mcpd::packs::knowledge {

// The Error for `e`, raised while `doing` ("searching the index"): Unavailable when retrying may
// work (locked, full, an I/O error), Internal otherwise (logged with an id, as core::fault does).
core::Error index_error(std::string_view doing, const infra::SqliteError& e);

// Runs `f` (returning a core::Result) and turns a SqliteError it throws into index_error().
template <typename F>
auto with_index(std::string_view doing, F&& f) -> std::invoke_result_t<F> {
  try {
    return std::forward<F>(f)();
  } catch (const infra::SqliteError& e) {
    return index_error(doing, e);
  }
}

}  // namespace mcpd::packs::knowledge
