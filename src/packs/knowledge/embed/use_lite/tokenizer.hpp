// The Universal Sentence Encoder's SentencePiece tokenizer, ported from
// @tensorflow-models/universal-sentence-encoder 1.3.3 (dist/tokenizer/index.js) so that the ids
// are exactly the ones TensorFlow.js feeds the model:
//   - NFKC normalization (utf8proc), every ' ' becomes '▁', and '▁' is put in front; no lower-casing;
//   - the text is handled as UTF-16 code units, as JavaScript strings are (an emoji is two units);
//   - Viterbi over the pieces' log-probabilities (ids 0-5 are reserved: 0 is <unk>), with the
//     JavaScript version's quirks kept: a unit no piece starts with becomes id 0 with score 0, a
//     score of exactly 0 counts as "no path yet", ties go to the later piece, and the backward pass
//     steps back by the chosen piece's own length (piece 0 is "\uFFFD": one unit);
//   - runs of <unk> are merged into one.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mcpd::packs::knowledge::use_lite {

class Tokenizer {
 public:
  // Reads vocab.json: an array of [piece, score] pairs (ModelError when it is not one).
  static Tokenizer load(const std::filesystem::path& vocab_json);
  explicit Tokenizer(std::vector<std::pair<std::string, double>> vocabulary);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // Token ids of `text` (UTF-8; invalid bytes count as U+FFFD).
  std::vector<std::int32_t> encode(std::string_view text) const;
  std::size_t size() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// NFKC of UTF-8 text (invalid bytes become U+FFFD), as UTF-16.
std::u16string nfkc_utf16(std::string_view text);

}  // namespace mcpd::packs::knowledge::use_lite
