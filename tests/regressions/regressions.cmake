# Regression tests, one file per hole that was found (named after it): each starts the real parts
# (mcpd, PostgreSQL, the S3-compatible server) and replays the attack, then checks nothing changed.
# Every *.test.mjs file in this folder is a test named regression.<file name>.
file(GLOB mcpd_regression_tests CONFIGURE_DEPENDS "${CMAKE_CURRENT_LIST_DIR}/*.test.mjs")
foreach(file ${mcpd_regression_tests})
  get_filename_component(name "${file}" NAME)
  string(REGEX REPLACE "\\.test\\.mjs$" "" name "${name}")
  add_test(NAME regression.${name} COMMAND ${MCPD_NODE} --test --test-reporter=spec "${file}")
  set_tests_properties(regression.${name} PROPERTIES ENVIRONMENT "${MCPD_TEST_ENV}" TIMEOUT 300 LABELS regression)
endforeach()
