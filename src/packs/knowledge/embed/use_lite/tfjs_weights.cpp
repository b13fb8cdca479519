// TfjsWeights implementation.
#include "packs/knowledge/embed/use_lite/tfjs_weights.hpp"

#include <boost/json.hpp>

#include <cstring>
#include <fstream>
#include <sstream>

namespace mcpd::packs::knowledge::use_lite {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) out.append(", ");
    out.append(std::to_string(shape[i]));
  }
  out.push_back(']');
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw ModelError("cannot read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::int64_t Tensor::elements() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

TfjsWeights TfjsWeights::load(const fs::path& dir) {
  TfjsWeights w;
  w.dir_ = dir;
  const fs::path model = dir / "model.json";
  json::value doc;
  try {
    doc = json::parse(read_file(model));
  } catch (const ModelError&) {
    throw;
  } catch (const std::exception& e) {
    throw ModelError(model.string() + " is not JSON: " + e.what());
  }
  const json::array* groups = nullptr;
  if (doc.is_object())
    if (auto* m = doc.as_object().if_contains("weightsManifest"); m && m->is_array()) groups = &m->as_array();
  if (!groups) throw ModelError(model.string() + " has no weightsManifest: not a TensorFlow.js graph model");
  try {
    for (const auto& g : *groups) {
      const auto& group = g.as_object();
      // The group's bytes: its shards, in order.
      std::string data;
      for (const auto& p : group.at("paths").as_array()) {
        std::string name(p.as_string());
        if (name.empty() || name.find('/') != std::string::npos || name.find("..") != std::string::npos)
          throw ModelError(model.string() + " names a shard outside its folder: '" + name + "'");
        data += read_file(dir / name);
      }
      std::size_t offset = 0;
      for (const auto& entry : group.at("weights").as_array()) {
        const auto& spec = entry.as_object();
        Tensor t;
        std::string name(spec.at("name").as_string());
        t.dtype = std::string(spec.at("dtype").as_string());
        for (const auto& d : spec.at("shape").as_array()) t.shape.push_back(d.to_number<std::int64_t>());
        if (spec.contains("quantization"))
          throw ModelError(model.string() + ": weight '" + name + "' is quantized; only float models are supported");
        if (t.dtype != "float32" && t.dtype != "int32")
          throw ModelError(model.string() + ": weight '" + name + "' has dtype " + t.dtype + "; only float32 and int32 are supported");
        const std::size_t bytes = static_cast<std::size_t>(t.elements()) * 4;
        if (offset + bytes > data.size())
          throw ModelError("the shards of " + model.string() + " hold " + std::to_string(data.size()) +
                           " bytes but its weights need more (at '" + name + "'): a shard is truncated or does not belong to this model");
        if (t.dtype == "float32") {
          t.floats.resize(static_cast<std::size_t>(t.elements()));
          std::memcpy(t.floats.data(), data.data() + offset, bytes);
        } else {
          t.ints.resize(static_cast<std::size_t>(t.elements()));
          std::memcpy(t.ints.data(), data.data() + offset, bytes);
        }
        offset += bytes;
        w.tensors_[name] = std::move(t);
      }
      if (offset != data.size())
        throw ModelError("the shards of " + model.string() + " hold " + std::to_string(data.size()) + " bytes but its weights use " +
                         std::to_string(offset) + ": the shards do not belong to this model.json");
    }
  } catch (const ModelError&) {
    throw;
  } catch (const std::exception& e) {
    throw ModelError(model.string() + " has a malformed weightsManifest: " + e.what());
  }
  return w;
}

const Tensor& TfjsWeights::get(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw ModelError((dir_ / "model.json").string() + " has no weight '" + name + "': not the expected model");
  return it->second;
}

const std::vector<float>& TfjsWeights::floats(const std::string& name, const std::vector<std::int64_t>& shape) const {
  const Tensor& t = get(name);
  if (t.dtype != "float32" || t.shape != shape)
    throw ModelError("weight '" + name + "' is " + t.dtype + " " + shape_text(t.shape) + ", expected float32 " + shape_text(shape) +
                     ": not the expected model");
  return t.floats;
}

float TfjsWeights::scalar(const std::string& name) const { return floats(name, {}).at(0); }

std::int32_t TfjsWeights::integer(const std::string& name) const {
  const Tensor& t = get(name);
  if (t.dtype != "int32" || !t.shape.empty())
    throw ModelError("weight '" + name + "' is " + t.dtype + " " + shape_text(t.shape) + ", expected an int32 scalar: not the expected model");
  return t.ints.at(0);
}

}  // namespace mcpd::packs::knowledge::use_lite
