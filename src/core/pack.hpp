// The Pack API: a tool pack registers its tools, resources, prompts and health checks here.
#pragma once
#include <boost/json.hpp>

#include <memory>
#include <string>

#include "core/registry.hpp"
#include "core/session_manager.hpp"

namespace mcpd::core {

struct PackContext {
  Registry& registry;
  SessionManager& sessions;      // for resource-updated and list-changed notifications
  const json::object& settings;  // the pack's own section of the configuration
  std::string data_dir;          // where packs keep their files (server.data_dir)
};

class Pack {
 public:
  virtual ~Pack() = default;
  virtual std::string name() const = 0;
  virtual void register_into(PackContext& context) = 0;
};

}  // namespace mcpd::core
