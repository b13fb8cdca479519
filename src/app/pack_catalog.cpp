// The pack catalog. Light packs are linked in; the knowledge (libgit2, poppler, libxml2, libcurl),
// sql (libpq) and storage (libcurl, libxml2) packs are plug-ins next to the binary, loaded only
// when enabled, so that a server without them keeps a small footprint.
#include "app/pack_catalog.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "packs/conformance/conformance_pack.hpp"

namespace mcpd::app {

namespace {

// $MCPD_PLUGIN_DIR, else the folder of the running executable.
std::filesystem::path plugin_dir() {
  if (const char* dir = std::getenv("MCPD_PLUGIN_DIR"); dir && *dir) return dir;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path(".") : exe.parent_path();
}

std::unique_ptr<core::Pack> load_plugin(const std::string& file, const char* entry) {
  auto path = plugin_dir() / file;
  // Loaded once and never unloaded: the pack's code must outlive every object it made.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) throw std::runtime_error("cannot load the plug-in " + path.string() + ": " + dlerror());
  auto make = reinterpret_cast<core::Pack* (*)()>(dlsym(handle, entry));
  if (!make) throw std::runtime_error("the plug-in " + path.string() + " has no " + entry);
  return std::unique_ptr<core::Pack>(make());
}

}  // namespace

std::unique_ptr<core::Pack> make_pack(const std::string& name) {
  if (name == "conformance") return packs::conformance::make_pack();
  if (name == "knowledge") return load_plugin("mcpd-knowledge.so", "mcpd_knowledge_make_pack");
  if (name == "sql") return load_plugin("mcpd-sql.so", "mcpd_sql_make_pack");
  if (name == "storage") return load_plugin("mcpd-storage.so", "mcpd_storage_make_pack");
  return nullptr;
}

std::vector<std::string> pack_names() { return {"conformance", "knowledge", "sql", "storage"}; }

}  // namespace mcpd::app
