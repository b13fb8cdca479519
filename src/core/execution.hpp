// Where a handler runs.
#pragma once

namespace mcpd::core {

// Inline handlers run on the I/O thread and must not block; Pool handlers run on the worker pool
// and may block (database, files, waiting for the client's answer).
enum class Execution { Inline, Pool };

}  // namespace mcpd::core
