// Embedding providers behind one interface: "none" (lexical only) and "openai" (any
// OpenAI-compatible /v1/embeddings endpoint: OpenAI, Ollama, vLLM, llama.cpp server).
#pragma once
#include <chrono>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/fault.hpp"
#include "core/result.hpp"

namespace mcpd::packs::knowledge {

struct EmbeddingError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Embedder {
 public:
  virtual ~Embedder() = default;
  virtual std::string provider() const = 0;  // "openai"
  virtual std::string model() const = 0;
  // The vector length; 0 until known (learned from the first answer unless configured).
  virtual std::size_t dimension() const = 0;
  // One vector per text, in order. Batches internally, retries transient failures with backoff,
  // and throws EmbeddingError with one clear sentence when it cannot.
  virtual std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) = 0;
};

struct OpenAiEmbedderOptions {
  std::string base_url = "https://api.openai.com/v1";  // POST {base_url}/embeddings
  std::string model = "text-embedding-3-small";
  std::string api_key;          // sent as Authorization: Bearer; may be empty (Ollama, llama.cpp)
  std::size_t dimension = 0;    // 0: learn it from the first answer; else requested and checked
  std::size_t batch_size = 64;  // texts per request
  int max_attempts = 3;         // 429, 5xx and network errors are retried
  std::chrono::milliseconds backoff_base{200};
  std::chrono::milliseconds timeout{30000};
};

std::unique_ptr<Embedder> make_openai_embedder(OpenAiEmbedderOptions options);

// The vectors of `texts`, or an Error: Unavailable with the embedder's sentence when it could not
// embed (an endpoint down or refusing), Internal (logged with an id) for anything else a provider
// throws. The one place the pack turns the providers' exceptions into an Error.
inline core::Result<std::vector<std::vector<float>>> embed_texts(Embedder& embedder, const std::vector<std::string>& texts) {
  try {
    return embedder.embed(texts);
  } catch (const EmbeddingError& e) {
    return core::Error::unavailable(e.what());
  } catch (const std::exception& e) {
    return core::fault("embedding with " + embedder.provider() + ":" + embedder.model(), e.what());
  }
}

}  // namespace mcpd::packs::knowledge
