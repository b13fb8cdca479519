// SQLite failures of the knowledge index as Errors; see index_errors.hpp.
#include "packs/knowledge/index/index_errors.hpp"

#include <string>

#include "core/fault.hpp"

namespace mcpd::packs::knowledge {

core::Error index_error(std::string_view doing, const infra::SqliteError& e) {
  const std::string detail = std::string(doing) + ": " + e.what();
  const std::string code = std::to_string(e.code);
  switch (e.code & 0xff) {  // the primary result code (extended codes keep it in the low byte)
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return core::Error::unavailable("The knowledge index is busy (another process is writing to it); retry in a moment",
                                      detail).with_code(code);
    case SQLITE_FULL:
      return core::Error::unavailable("The disk holding the knowledge index is full; free some space and retry", detail)
          .with_code(code);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return core::Error::unavailable("The knowledge index could not be read or written; retry, and see the server log "
                                      "if it persists", detail).with_code(code);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return core::Error::internal("The knowledge index is damaged; `mcpd kb check` describes the damage, and removing "
                                   "the index file makes the next sync rebuild it", detail).with_code(code);
    default:
      return core::fault("knowledge index (" + std::string(doing) + ")", e.what()).with_code(code);
  }
}

}  // namespace mcpd::packs::knowledge
