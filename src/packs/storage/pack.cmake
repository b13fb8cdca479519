# The storage pack (object storage by name: a local folder and S3-compatible endpoints): a plug-in,
# mcpd-storage.so, so that libcurl and libxml2 stay out of servers that do not use it.
mcpd_add_pack(storage PLUGIN
  SOURCES
    src/packs/storage/sigv4.cpp
    src/packs/storage/s3_client.cpp
    src/packs/storage/local_store.cpp
    src/packs/storage/s3_store.cpp
    src/packs/storage/store_config.cpp
    src/packs/storage/object_key.cpp
    src/packs/storage/access_policy.cpp
    src/packs/storage/storage_pack.cpp
    src/packs/storage/plugin_entry.cpp
  LIBS PkgConfig::CURL PkgConfig::LIBXML2)
