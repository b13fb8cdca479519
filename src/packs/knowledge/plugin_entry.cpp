// The knowledge pack's entry point when it is loaded as the mcpd-knowledge.so plug-in.
#include "packs/knowledge/knowledge_pack.hpp"

extern "C" mcpd::core::Pack* mcpd_knowledge_make_pack() { return mcpd::packs::knowledge::make_pack().release(); }
