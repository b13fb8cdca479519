# The HTTP client's tests (infra/http_client) against a scripted HTTP server on loopback: its own
# executable, because the client links libcurl and the core unit tests stay free of it.
add_executable(mcpd_http_client_tests unit/infra/http_client_test.cpp)
target_link_libraries(mcpd_http_client_tests PRIVATE mcpd_http_client mcpd_infra GTest::gtest_main)
gtest_discover_tests(mcpd_http_client_tests TEST_PREFIX "http_client." DISCOVERY_TIMEOUT 60)
