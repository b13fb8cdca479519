// Every pack mcpd ships, by name: the only place that knows them all.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/pack.hpp"

namespace mcpd::app {

// nullptr for an unknown name.
std::unique_ptr<core::Pack> make_pack(const std::string& name);
std::vector<std::string> pack_names();

}  // namespace mcpd::app
