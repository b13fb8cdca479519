# mcpd_add_pack(<name> [PLUGIN] SOURCES <files…> [LIBS <libraries…>] [DEFINITIONS <defs…>])
#
# The one way to build a pack. Every pack gets mcpd_<name>_objects (its sources, compiled once) and
# mcpd_<name>, a static library of the same objects for the tests and benchmarks.
#   PLUGIN  the pack is also the plug-in mcpd-<name>.so (target mcpd_<name>_plugin), loaded only when
#           the pack is enabled, so that its libraries (LIBS) stay out of servers that do not use it;
#           core and infra symbols resolve against the mcpd executable, which exports them. The plug-in
#           exports `mcpd_<name>_make_pack` (see plugin_entry.cpp) and app/pack_catalog.cpp names it.
#   without PLUGIN, the pack is linked into mcpd (light packs with no extra library: conformance).
# LIBS are the pack's own libraries (libpq, libcurl, …); Boost.JSON, spdlog, fmt and OpenSSL are always there.
function(mcpd_add_pack name)
  cmake_parse_arguments(PACK "PLUGIN" "" "SOURCES;LIBS;DEFINITIONS" ${ARGN})
  set(objects mcpd_${name}_objects)
  add_library(${objects} OBJECT ${PACK_SOURCES})
  target_include_directories(${objects} PRIVATE ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(${objects} PRIVATE Boost::json spdlog::spdlog fmt::fmt OpenSSL::Crypto ${PACK_LIBS})
  target_compile_definitions(${objects} PRIVATE BOOST_ASIO_NO_DEPRECATED ${PACK_DEFINITIONS})

  add_library(mcpd_${name} STATIC $<TARGET_OBJECTS:${objects}>)
  target_link_libraries(mcpd_${name} PUBLIC ${PACK_LIBS} mcpd_infra)

  if(PACK_PLUGIN)
    add_library(mcpd_${name}_plugin MODULE $<TARGET_OBJECTS:${objects}>)
    set_target_properties(mcpd_${name}_plugin PROPERTIES OUTPUT_NAME "mcpd-${name}" PREFIX "")
    target_link_libraries(mcpd_${name}_plugin PRIVATE Boost::json spdlog::spdlog fmt::fmt OpenSSL::Crypto ${PACK_LIBS})
    add_dependencies(mcpd mcpd_${name}_plugin)
  else()
    target_link_libraries(mcpd PRIVATE mcpd_${name})
  endif()
endfunction()
