# The storage pack's tests: SigV4 against AWS's examples, the one object key policy on every store,
# the local store, the pack's settings
# (unit, GoogleTest); every tool against an S3-compatible server that checks signatures and against
# the embedded local store (integration, real processes).
add_executable(mcpd_storage_unit_tests
  unit/storage/sigv4_test.cpp
  unit/storage/local_store_test.cpp
  unit/storage/store_config_test.cpp
  unit/storage/s3_store_test.cpp
  unit/storage/object_key_test.cpp)
target_link_libraries(mcpd_storage_unit_tests PRIVATE mcpd_storage GTest::gtest_main)
gtest_discover_tests(mcpd_storage_unit_tests TEST_PREFIX "storage." DISCOVERY_TIMEOUT 60)

# A standalone driver of S3Client against a live server (not run by ctest):
#   s3_client_live http://127.0.0.1:PORT mcpd-test S3RVER S3RVER
add_executable(s3_client_live unit/storage/s3_client_live.cpp)
target_link_libraries(s3_client_live PRIVATE mcpd_storage)
set_target_properties(s3_client_live PROPERTIES EXCLUDE_FROM_ALL ON)

mcpd_node_test(storage_s3 storage_s3.test.mjs)
mcpd_node_test(storage_local storage_local.test.mjs)
