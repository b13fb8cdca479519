// The pack catalog.
#include "app/pack_catalog.hpp"

#include "packs/conformance/conformance_pack.hpp"
#include "packs/knowledge/knowledge_pack.hpp"

namespace mcpd::app {

std::unique_ptr<core::Pack> make_pack(const std::string& name) {
  if (name == "conformance") return packs::conformance::make_pack();
  if (name == "knowledge") return packs::knowledge::make_pack();
  return nullptr;
}

std::vector<std::string> pack_names() { return {"conformance", "knowledge"}; }

}  // namespace mcpd::app
