// Where a handler runs, and the bounded pool that runs the blocking ones.
#pragma once
#include <functional>

namespace mcpd::core {

// Inline handlers run on the I/O thread and must not block; Pool handlers run on the worker pool
// and may block (database, files, sockets, waiting for the client's answer). Tools, resources,
// prompts (with their completers) and REST routes each declare one.
enum class Execution { Inline, Pool };

// Where Pool handlers run; supplied by the application (a bounded thread pool).
class Executor {
 public:
  virtual ~Executor() = default;
  // Queues `work`; false, without running it, when the queue is at its bound: the caller answers
  // "busy, retry" instead of letting memory grow.
  [[nodiscard]] virtual bool post(std::function<void()> work) = 0;
};

}  // namespace mcpd::core
