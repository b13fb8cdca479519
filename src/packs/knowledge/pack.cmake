# The knowledge pack: a plug-in, mcpd-knowledge.so, so that its heavy dependencies (libgit2, poppler,
# libxml2, libcurl) live only in servers that enable it (idle RSS, cold start). See README.md here.
#
# It indexes the project's docs/ when no source is configured (zero configuration), and finds the
# use-lite model where scripts/fetch-model.sh puts it.
mcpd_add_pack(knowledge PLUGIN
  SOURCES
    src/packs/knowledge/sources/directory_source.cpp
    src/packs/knowledge/sources/git_source.cpp
    src/packs/knowledge/extract/text_encoding.cpp
    src/packs/knowledge/extract/text_extractor.cpp
    src/packs/knowledge/extract/html_extractor.cpp
    src/packs/knowledge/extract/pdf_extractor.cpp
    src/packs/knowledge/extract/roff_interpreter.cpp
    src/packs/knowledge/extract/man_extractor.cpp
    src/packs/knowledge/extract/extract.cpp
    src/packs/knowledge/extract/chunker.cpp
    src/packs/knowledge/index/index_store.cpp
    src/packs/knowledge/index/index_errors.cpp
    src/packs/knowledge/index/fts_rank.cpp
    src/packs/knowledge/index/lexical_query.cpp
    src/packs/knowledge/index/snippet.cpp
    src/packs/knowledge/index/vector_index.cpp
    src/packs/knowledge/index/hnsw_index.cpp
    src/packs/knowledge/embed/openai_embedder.cpp
    src/packs/knowledge/embed/use_lite/tfjs_weights.cpp
    src/packs/knowledge/embed/use_lite/tokenizer.cpp
    src/packs/knowledge/embed/use_lite/encoder.cpp
    src/packs/knowledge/embed/use_lite_embedder.cpp
    src/packs/knowledge/search/search.cpp
    src/packs/knowledge/sync/sync_engine.cpp
    src/packs/knowledge/sync/sync_jobs.cpp
    src/packs/knowledge/sync/sync_scheduler.cpp
    src/packs/knowledge/knowledge_settings.cpp
    src/packs/knowledge/knowledge_pack.cpp
    src/packs/knowledge/plugin_entry.cpp
  LIBS mcpd_http_client PkgConfig::SQLITE PkgConfig::TOMLPP PkgConfig::LIBGIT2 PkgConfig::POPPLER PkgConfig::LIBXML2
    PkgConfig::EIGEN PkgConfig::UTF8PROC
  DEFINITIONS MCPD_DOCS_DIR="${CMAKE_SOURCE_DIR}/docs" MCPD_MODELS_DIR="${CMAKE_SOURCE_DIR}/models")

# The use-lite encoder's matrix products and the vector scans are compiled for the build machine's
# CPU (AVX2/AVX-512 where it has them: the encoder runs 3x faster than on the x86-64 baseline).
# scripts/run.sh builds on the machine that runs mcpd; turn this off to build a binary for other machines.
option(MCPD_NATIVE_ENCODER "Compile the use-lite encoder with -march=native" ON)
if(MCPD_NATIVE_ENCODER)
  set_source_files_properties(src/packs/knowledge/embed/use_lite/encoder.cpp PROPERTIES COMPILE_OPTIONS
    "-march=native;-O3;-Wno-maybe-uninitialized;-Wno-uninitialized")
  set_source_files_properties(src/packs/knowledge/index/vector_index.cpp PROPERTIES COMPILE_OPTIONS "-march=native;-O3")
endif()
