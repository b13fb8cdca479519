# The storage pack (seed 003: object storage by name, a local folder and S3-compatible endpoints):
# a plug-in, mcpd-storage.so, loaded only when the pack is enabled, so that libcurl and libxml2
# stay out of servers that do not use it. Tests link the same objects statically (mcpd_storage).
add_library(mcpd_storage_objects OBJECT
  src/packs/storage/sigv4.cpp
  src/packs/storage/s3_client.cpp
  src/packs/storage/encoding.cpp
  src/packs/storage/local_store.cpp
  src/packs/storage/s3_store.cpp
  src/packs/storage/store_config.cpp
  src/packs/storage/object_key.cpp
  src/packs/storage/access_policy.cpp
  src/packs/storage/storage_pack.cpp
  src/packs/storage/plugin_entry.cpp)
target_include_directories(mcpd_storage_objects PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(mcpd_storage_objects PRIVATE Boost::json spdlog::spdlog fmt::fmt PkgConfig::CURL PkgConfig::LIBXML2
  OpenSSL::Crypto)
target_compile_definitions(mcpd_storage_objects PRIVATE BOOST_ASIO_NO_DEPRECATED)

# For the tests: everything linked in.
add_library(mcpd_storage STATIC $<TARGET_OBJECTS:mcpd_storage_objects>)
target_link_libraries(mcpd_storage PUBLIC mcpd_infra PkgConfig::CURL PkgConfig::LIBXML2 OpenSSL::Crypto)

# The plug-in: core and infra symbols resolve against the mcpd executable, which exports them.
add_library(mcpd_storage_plugin MODULE $<TARGET_OBJECTS:mcpd_storage_objects>)
set_target_properties(mcpd_storage_plugin PROPERTIES OUTPUT_NAME "mcpd-storage" PREFIX "")
target_link_libraries(mcpd_storage_plugin PRIVATE Boost::json spdlog::spdlog fmt::fmt OpenSSL::Crypto PkgConfig::CURL
  PkgConfig::LIBXML2)
add_dependencies(mcpd mcpd_storage_plugin)
