// Encoder implementation (Eigen, float32 throughout like the TensorFlow.js CPU backend).
#include "packs/knowledge/embed/use_lite/encoder.hpp"

#include <Eigen/Dense>

#include <cmath>

namespace mcpd::packs::knowledge::use_lite {

namespace {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Row = Eigen::Matrix<float, 1, Eigen::Dynamic>;

// (No static objects with constructors here: this file may be compiled for AVX2, and must run no
// code before use_lite_supported() has said the CPU can.)
constexpr const char* kModule = "module/Encoder_en/KonaTransformer/Encode/";
constexpr const char* kApply = "module_apply_default/Encoder_en/KonaTransformer/Encode/";

Matrix matrix(const TfjsWeights& w, const std::string& name, std::int64_t rows, std::int64_t cols,
              std::vector<std::int64_t> shape = {}) {
  if (shape.empty()) shape = {rows, cols};
  const auto& v = w.floats(name, shape);
  return Eigen::Map<const Matrix>(v.data(), rows, cols);
}

Row row(const TfjsWeights& w, const std::string& name, std::int64_t n) {
  const auto& v = w.floats(name, {n});
  return Eigen::Map<const Row>(v.data(), n);
}

struct LayerNorm {
  Row scale, bias;
  void load(const TfjsWeights& w, const std::string& prefix, std::int64_t width) {
    scale = row(w, prefix + "layer_norm_scale/ConcatPartitions/concat", width);
    bias = row(w, prefix + "layer_norm_bias/ConcatPartitions/concat", width);
  }
  // Row-wise: (x - mean) · rsqrt(var + ε) · scale + bias, as the graph computes it.
  Matrix operator()(const Matrix& x, float epsilon) const {
    Matrix out(x.rows(), x.cols());
    for (Eigen::Index t = 0; t < x.rows(); ++t) {
      Row centered = x.row(t).array() - x.row(t).mean();
      float variance = centered.array().square().mean();
      float r = 1.0f / std::sqrt(variance + epsilon);
      out.row(t) = (scale.array() * r) * centered.array() + bias.array();
    }
    return out;
  }
};

struct Layer {
  std::int64_t width_in = 0, width = 0, heads = 0, depth = 0;
  float query_scale = 1;
  LayerNorm attention_norm, ffn_norm;
  Matrix qkv, out, project, ffn1, ffn2;  // project: the residual's 256→512 (layer 0 only)
  Row qkv_bias, out_bias, project_bias, ffn1_bias, ffn2_bias;
};

void load_layer(const TfjsWeights& w, int index, std::int64_t width_in, std::int64_t heads, Layer& l) {
  const std::string n = "Layer_" + std::to_string(index) + "/TransformerLayer/";
  l.width_in = width_in;
  l.width = 512;
  l.heads = heads;
  l.depth = width_in / heads;
  l.query_scale = w.scalar(std::string(kApply) + "TransformerStack/" + n + "MultiheadAttention/mul/y");
  l.attention_norm.load(w, std::string(kApply) + n + "layer_prepostprocess/layer_norm/", width_in);
  l.qkv = matrix(w, std::string(kModule) + n + "MultiheadAttention/qkv_transform_single/kernel/part_0", width_in, 3 * width_in,
                 {1, 1, width_in, 3 * width_in});
  l.qkv_bias = row(w, std::string(kApply) + n + "MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat", 3 * width_in);
  l.out = matrix(w, std::string(kModule) + n + "MultiheadAttention/output_transform_single/kernel/part_0", width_in, 512, {1, 1, width_in, 512});
  l.out_bias = row(w, std::string(kApply) + n + "MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat", 512);
  if (width_in != 512) {
    l.project = matrix(w, std::string(kApply) + n + "dense/kernel/ConcatPartitions/concat", width_in, 512);
    l.project_bias = row(w, std::string(kApply) + n + "dense/bias/ConcatPartitions/concat", 512);
  }
  l.ffn_norm.load(w, std::string(kApply) + n + "FFN/layer_prepostprocess/layer_norm/", 512);
  l.ffn1 = matrix(w, std::string(kApply) + "TransformerStack/" + n + "FFN/conv1/Tensordot/Reshape_1", 512, 1536);
  l.ffn1_bias = row(w, std::string(kApply) + n + "FFN/conv1/bias/ConcatPartitions/concat", 1536);
  l.ffn2 = matrix(w, std::string(kApply) + "TransformerStack/" + n + "FFN/conv2/Tensordot/Reshape_1", 1536, 512);
  l.ffn2_bias = row(w, std::string(kApply) + n + "FFN/conv2/bias/ConcatPartitions/concat", 512);
}

// Where each sentence's rows are in a batch matrix (sentences are stacked, token after token).
struct Segment {
  Eigen::Index begin, length;
};

// Multi-head self-attention within each sentence (a sentence's tokens see only each other, which
// is what the graph's padding mask gives).
Matrix attention(const Layer& l, const Matrix& normed, const std::vector<Segment>& segments) {
  const Eigen::Index W = l.width_in, D = l.depth;
  Matrix qkv = (normed * l.qkv).rowwise() + l.qkv_bias;
  Matrix combined(normed.rows(), W);
  for (const auto& seg : segments) {
    const Eigen::Index T = seg.length;
    for (Eigen::Index h = 0; h < l.heads; ++h) {
      Matrix q = qkv.block(seg.begin, h * D, T, D) * l.query_scale;
      Matrix logits = q * qkv.block(seg.begin, W + h * D, T, D).transpose();
      for (Eigen::Index t = 0; t < T; ++t) {
        float m = logits.row(t).maxCoeff();
        logits.row(t) = (logits.row(t).array() - m).exp();
        logits.row(t) /= logits.row(t).sum();
      }
      combined.block(seg.begin, h * D, T, D) = logits * qkv.block(seg.begin, 2 * W + h * D, T, D);
    }
  }
  return (combined * l.out).rowwise() + l.out_bias;
}

Matrix feed_forward(const Layer& l, const Matrix& normed) {
  Matrix hidden = ((normed * l.ffn1).rowwise() + l.ffn1_bias).cwiseMax(0.0f);
  return (hidden * l.ffn2).rowwise() + l.ffn2_bias;
}

}  // namespace

struct Encoder::Weights {
  Matrix embeddings;        // 8002 × 256
  Row inverse_timescales;   // 128
  Layer layers[2];
  Matrix tanh_weights;      // 512 × 512
  Row tanh_bias;
  float epsilon = 1e-6f, l2_epsilon = 1e-12f;
  std::size_t max_tokens = 128;
};

Encoder::Encoder(const TfjsWeights& weights) : w_(std::make_unique<Weights>()) {
  auto& w = *w_;
  w.embeddings = matrix(weights, "module/Embeddings_en", 8002, 256);
  w.inverse_timescales = Eigen::Map<const Row>(
      weights.floats(std::string(kApply) + "TransformerStack/Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1", {1, 128}).data(), 128);
  load_layer(weights, 0, 256, 4, w.layers[0]);
  load_layer(weights, 1, 512, 4, w.layers[1]);
  w.tanh_weights = matrix(weights, "module/Encoder_en/hidden_layers/tanh_layer_0/weights", 512, 512);
  w.tanh_bias = row(weights, "module/Encoder_en/hidden_layers/tanh_layer_0/bias", 512);
  w.epsilon = weights.scalar(std::string(kApply) + "TransformerStack/Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x");
  w.l2_epsilon = weights.scalar("module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y");
  auto max_tokens = weights.integer("module_apply_default/Encoder_en/KonaTransformer/ClipToMaxLength/Less/y");
  if (max_tokens < 1 || max_tokens > 100000) throw ModelError("the model's maximum length (" + std::to_string(max_tokens) + ") is implausible");
  w.max_tokens = static_cast<std::size_t>(max_tokens);
}

Encoder::~Encoder() = default;

std::size_t Encoder::vocabulary_rows() const { return static_cast<std::size_t>(w_->embeddings.rows()); }
std::size_t Encoder::max_tokens() const { return w_->max_tokens; }

std::array<float, kDimension> Encoder::encode(const std::vector<std::int32_t>& ids) const {
  return encode_batch({ids}).front();
}

std::vector<std::array<float, kDimension>> Encoder::encode_batch(const std::vector<std::vector<std::int32_t>>& batch) const {
  const auto& w = *w_;
  // All sentences' tokens stacked into one matrix, so the dense layers multiply the weights once
  // per batch instead of once per sentence (with ~12 tokens a sentence, streaming 27 MB of
  // weights per sentence was the bottleneck).
  std::vector<Segment> segments;
  Eigen::Index rows = 0;
  for (const auto& ids : batch) {
    auto n = static_cast<Eigen::Index>(std::min(ids.size(), w.max_tokens));
    segments.push_back({rows, n});
    rows += n;
  }
  std::vector<Segment> nonempty;
  for (const auto& seg : segments)
    if (seg.length > 0) nonempty.push_back(seg);
  Matrix h;
  if (rows > 0) {
    // Token embeddings, added twice (the graph adds the embeddings plus timing signal to the
    // embeddings), plus the sinusoidal position signal.
    Matrix x(rows, 256);
    for (std::size_t s = 0; s < batch.size(); ++s) {
      for (Eigen::Index t = 0; t < segments[s].length; ++t) {
        auto id = batch[s][static_cast<std::size_t>(t)];
        if (id < 0 || id >= w.embeddings.rows()) throw ModelError("token id " + std::to_string(id) + " is outside the vocabulary");
        Row angle = w.inverse_timescales * static_cast<float>(t);
        auto r = segments[s].begin + t;
        x.row(r).head(128) = w.embeddings.row(id).head(128) * 2.0f + angle.array().sin().matrix();
        x.row(r).tail(128) = w.embeddings.row(id).tail(128) * 2.0f + angle.array().cos().matrix();
      }
    }
    const Layer& l0 = w.layers[0];
    h = ((x * l0.project).rowwise() + l0.project_bias) + attention(l0, l0.attention_norm(x, w.epsilon), nonempty);
    h += feed_forward(l0, l0.ffn_norm(h, w.epsilon));
    const Layer& l1 = w.layers[1];
    h += attention(l1, l1.attention_norm(h, w.epsilon), nonempty);
    h += feed_forward(l1, l1.ffn_norm(h, w.epsilon));
  }
  Matrix pooled = Matrix::Zero(static_cast<Eigen::Index>(batch.size()), 512);
  for (std::size_t s = 0; s < batch.size(); ++s)
    if (segments[s].length > 0)
      pooled.row(static_cast<Eigen::Index>(s)) =
          h.middleRows(segments[s].begin, segments[s].length).colwise().sum() / static_cast<float>(segments[s].length);
  Matrix y = ((pooled * w.tanh_weights).rowwise() + w.tanh_bias).array().tanh().matrix();
  std::vector<std::array<float, kDimension>> out(batch.size());
  for (std::size_t s = 0; s < batch.size(); ++s) {
    auto r = static_cast<Eigen::Index>(s);
    float scale = 1.0f / std::sqrt(std::max(y.row(r).squaredNorm(), w.l2_epsilon));
    for (std::size_t i = 0; i < kDimension; ++i) out[s][i] = y(r, static_cast<Eigen::Index>(i)) * scale;
  }
  return out;
}

}  // namespace mcpd::packs::knowledge::use_lite
