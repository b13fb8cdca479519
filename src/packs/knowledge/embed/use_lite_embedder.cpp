// UseLiteEmbedder implementation.
#include "packs/knowledge/embed/use_lite_embedder.hpp"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <thread>

#include "packs/knowledge/embed/use_lite/encoder.hpp"
#include "packs/knowledge/embed/use_lite/tokenizer.hpp"

#ifndef MCPD_MODELS_DIR
#define MCPD_MODELS_DIR ""
#endif

namespace mcpd::packs::knowledge {

namespace {

class UseLiteEmbedder final : public Embedder {
 public:
  UseLiteEmbedder(use_lite::Tokenizer tokenizer, std::unique_ptr<use_lite::Encoder> encoder, unsigned threads)
      : tokenizer_(std::move(tokenizer)), encoder_(std::move(encoder)), threads_(threads) {}

  std::string provider() const override { return "use-lite"; }
  std::string model() const override { return "universal-sentence-encoder-lite"; }
  std::size_t dimension() const override { return use_lite::kDimension; }

  std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) override {
    std::vector<std::vector<float>> out(texts.size());
    // Sentences go through the encoder kBatch at a time (its dense layers run over a batch's
    // tokens together); batches are shared out among the threads.
    constexpr std::size_t kBatch = 32;
    auto work = [&](std::size_t begin, std::size_t end) {
      for (std::size_t b = begin; b < end; b += kBatch) {
        std::vector<std::vector<std::int32_t>> ids;
        for (std::size_t i = b; i < std::min(end, b + kBatch); ++i) ids.push_back(tokenizer_.encode(texts[i]));
        auto vectors = encoder_->encode_batch(ids);
        for (std::size_t i = 0; i < vectors.size(); ++i) out[b + i].assign(vectors[i].begin(), vectors[i].end());
      }
    };
    const std::size_t n = texts.size();
    const std::size_t workers = std::min<std::size_t>(threads_, (n + kBatch - 1) / kBatch);  // a batch each at least
    if (workers <= 1) {
      work(0, n);
      return out;
    }
    std::vector<std::thread> pool;
    std::vector<std::exception_ptr> errors(workers);
    for (std::size_t w = 0; w < workers; ++w)
      pool.emplace_back([&, w] {
        try {
          work(n * w / workers, n * (w + 1) / workers);
        } catch (...) {
          errors[w] = std::current_exception();
        }
      });
    for (auto& t : pool) t.join();
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
    return out;
  }

 private:
  use_lite::Tokenizer tokenizer_;
  std::unique_ptr<use_lite::Encoder> encoder_;
  unsigned threads_;
};

}  // namespace

std::unique_ptr<Embedder> make_use_lite_embedder(const UseLiteOptions& options) {
  try {
    auto weights = use_lite::TfjsWeights::load(options.model_dir);
    auto encoder = std::make_unique<use_lite::Encoder>(weights);
    auto tokenizer = use_lite::Tokenizer::load(options.model_dir / "vocab.json");
    if (tokenizer.size() + 2 != encoder->vocabulary_rows())
      throw use_lite::ModelError("vocab.json has " + std::to_string(tokenizer.size()) + " pieces but the model embeds " +
                                 std::to_string(encoder->vocabulary_rows()) + " (expected pieces + 2)");
    unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
    return std::make_unique<UseLiteEmbedder>(std::move(tokenizer), std::move(encoder), threads);
  } catch (const use_lite::ModelError& e) {
    throw EmbeddingError("use-lite: " + std::string(e.what()));
  }
}

std::optional<std::filesystem::path> find_use_lite_model(const std::filesystem::path& data_dir) {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("MCPD_USE_LITE_DIR"); env && *env) candidates.emplace_back(env);
  if (!data_dir.empty()) candidates.push_back(data_dir / "models" / "use-lite");
  if (*MCPD_MODELS_DIR) candidates.push_back(fs::path(MCPD_MODELS_DIR) / "use-lite");
  for (const auto& c : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(c / "model.json", ec) && fs::is_regular_file(c / "vocab.json", ec)) return c;
  }
  return std::nullopt;
}

}  // namespace mcpd::packs::knowledge
