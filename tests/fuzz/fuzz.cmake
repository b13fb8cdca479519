# libFuzzer targets (MCPD_FUZZ=ON, the `fuzz` preset, clang only): each tests/fuzz/<what>_fuzz.cpp is
# built with just the sources it exercises, and run briefly by ctest (label fuzz). docs/TESTING.md
# says how to run them for longer.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "MCPD_FUZZ needs clang's libFuzzer: configure with `cmake --preset fuzz`")
endif()

set(MCPD_FUZZ_SECONDS 30 CACHE STRING "How long each fuzz target runs under ctest")
# -O1 with debug lines, as libFuzzer's documentation advises; undefined behaviour stops the run.
# Clang 14 cannot emit -fsanitize=function's checks in coroutines ("Cannot represent a difference
# across sections"), and Asio's awaitables are coroutines: that one check is left out.
set(mcpd_fuzz_sanitizers -fsanitize=address,undefined -fno-sanitize=function -fno-sanitize-recover=undefined)
add_compile_options(-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link ${mcpd_fuzz_sanitizers}
  -Wno-missing-field-initializers)
add_link_options(${mcpd_fuzz_sanitizers})
# Boost's own assertions stay on and end the run, through tests/fuzz/boost_assert_handler.cpp.
add_compile_definitions(BOOST_ASIO_NO_DEPRECATED BOOST_ENABLE_ASSERT_HANDLER)
include_directories(src tests/fuzz)
enable_testing()

# Sources shared by more than one target, compiled once.
add_library(mcpd_fuzz_json_rpc STATIC src/core/json_rpc.cpp)
target_link_libraries(mcpd_fuzz_json_rpc PUBLIC Boost::json)

set(mcpd_fuzz_dir ${CMAKE_CURRENT_LIST_DIR})
# mcpd_fuzz_target(<what> SOURCES <.cpp the target exercises> LIBS <libraries>)
function(mcpd_fuzz_target what)
  cmake_parse_arguments(FUZZ "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${what}_fuzz ${mcpd_fuzz_dir}/${what}_fuzz.cpp ${mcpd_fuzz_dir}/boost_assert_handler.cpp ${FUZZ_SOURCES})
  target_link_libraries(${what}_fuzz PRIVATE ${FUZZ_LIBS})
  target_link_options(${what}_fuzz PRIVATE -fsanitize=fuzzer)
  add_test(NAME fuzz.${what}
           COMMAND bash ${mcpd_fuzz_dir}/run_fuzz.sh $<TARGET_FILE:${what}_fuzz> ${what} ${MCPD_FUZZ_SECONDS}
                   ${CMAKE_BINARY_DIR}/fuzz-work)
  math(EXPR timeout "${MCPD_FUZZ_SECONDS} + 120")
  set_tests_properties(fuzz.${what} PROPERTIES LABELS fuzz TIMEOUT ${timeout})
endfunction()

mcpd_fuzz_target(json_rpc LIBS mcpd_fuzz_json_rpc)
mcpd_fuzz_target(http_request SOURCES src/transport/origin_guard.cpp LIBS Boost::json)
# sse_frame() and the response builders live in http_server.cpp beside the listener, whose code
# (never run here) needs these to link.
add_library(mcpd_fuzz_listener_support STATIC
  src/transport/http_session.cpp src/core/error_mapping.cpp
  src/infra/config.cpp src/infra/logging.cpp src/infra/masking.cpp src/infra/time.cpp src/infra/text.cpp)
target_link_libraries(mcpd_fuzz_listener_support PUBLIC Boost::json spdlog::spdlog fmt::fmt PkgConfig::TOMLPP)
mcpd_fuzz_target(sse
  SOURCES src/transport/sse_session_state.cpp src/transport/http_server.cpp
  LIBS mcpd_fuzz_json_rpc mcpd_fuzz_listener_support)
mcpd_fuzz_target(sql_guard
  SOURCES src/packs/sql/sql_lexer.cpp src/packs/sql/statement_guard.cpp src/packs/sql/denied_functions.cpp
  LIBS Boost::json)
mcpd_fuzz_target(cron SOURCES src/infra/cron.cpp)
mcpd_fuzz_target(sigv4 SOURCES src/packs/storage/sigv4.cpp src/infra/crypto.cpp LIBS OpenSSL::Crypto)
# The knowledge pack's extractors and chunker (libxml2 and poppler themselves are not instrumented).
mcpd_fuzz_target(extract
  SOURCES src/packs/knowledge/extract/extract.cpp src/packs/knowledge/extract/text_encoding.cpp src/infra/text.cpp
          src/packs/knowledge/extract/text_extractor.cpp src/packs/knowledge/extract/html_extractor.cpp
          src/packs/knowledge/extract/pdf_extractor.cpp src/packs/knowledge/extract/roff_interpreter.cpp
          src/packs/knowledge/extract/man_extractor.cpp src/packs/knowledge/extract/chunker.cpp
  LIBS PkgConfig::LIBXML2 PkgConfig::POPPLER OpenSSL::Crypto Boost::json)
