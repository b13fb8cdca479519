// The sql pack's entry point when it is loaded as the mcpd-sql.so plug-in.
#include "packs/sql/sql_pack.hpp"

extern "C" mcpd::core::Pack* mcpd_sql_make_pack() { return mcpd::packs::sql::make_pack().release(); }
