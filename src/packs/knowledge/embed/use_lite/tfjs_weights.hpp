// The weights of a TensorFlow.js graph model: model.json's weightsManifest and its binary shards,
// read into named tensors. Only what a converted float model uses is accepted (float32 and int32,
// no quantization); anything else, a missing or truncated shard, or a manifest that does not add up
// is refused with one sentence that names the file.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace mcpd::packs::knowledge::use_lite {

struct ModelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Tensor {
  std::vector<std::int64_t> shape;
  std::string dtype;  // "float32" or "int32"
  std::vector<float> floats;
  std::vector<std::int32_t> ints;
  std::int64_t elements() const;
};

class TfjsWeights {
 public:
  // Reads DIR/model.json and the shards it lists (in DIR).
  static TfjsWeights load(const std::filesystem::path& dir);

  bool contains(const std::string& name) const { return tensors_.count(name) > 0; }
  // The float32 tensor `name`, which must have exactly `shape`.
  const std::vector<float>& floats(const std::string& name, const std::vector<std::int64_t>& shape) const;
  // A float32 scalar; an int32 scalar.
  float scalar(const std::string& name) const;
  std::int32_t integer(const std::string& name) const;
  std::size_t size() const { return tensors_.size(); }

 private:
  const Tensor& get(const std::string& name) const;
  std::filesystem::path dir_;
  std::map<std::string, Tensor> tensors_;
};

}  // namespace mcpd::packs::knowledge::use_lite
