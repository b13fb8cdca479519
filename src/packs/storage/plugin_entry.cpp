// The storage pack's entry point when it is loaded as the mcpd-storage.so plug-in.
#include "packs/storage/storage_pack.hpp"

extern "C" mcpd::core::Pack* mcpd_storage_make_pack() { return mcpd::packs::storage::make_pack().release(); }
