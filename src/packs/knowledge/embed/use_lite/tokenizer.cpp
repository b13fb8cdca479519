// Tokenizer implementation.
#include "packs/knowledge/embed/use_lite/tokenizer.hpp"

#include <utf8proc.h>

#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "packs/knowledge/embed/use_lite/tfjs_weights.hpp"  // ModelError

namespace mcpd::packs::knowledge::use_lite {

namespace {

constexpr std::size_t kReserved = 6;  // ids 0-5: <unk>, <s>, </s>, extra tokens
constexpr char16_t kSpace = u'\u2581';

// UTF-8 to code points; a byte that does not start a valid sequence becomes U+FFFD.
std::vector<utf8proc_int32_t> decode(std::string_view text) {
  std::vector<utf8proc_int32_t> out;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(text.size());
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) {
      out.push_back(0xFFFD);
      n = 1;
    } else {
      out.push_back(cp);
    }
    p += n;
    left -= n;
  }
  return out;
}

void append_utf16(std::u16string& out, utf8proc_int32_t cp) {
  if (cp >= 0x10000) {
    cp -= 0x10000;
    out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
    out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
  } else {
    out.push_back(static_cast<char16_t>(cp));
  }
}

std::u16string utf16(std::string_view utf8) {
  std::u16string out;
  for (auto cp : decode(utf8)) append_utf16(out, cp);
  return out;
}

}  // namespace

std::u16string nfkc_utf16(std::string_view text) {
  // Valid UTF-8 first (invalid bytes as U+FFFD, as a JavaScript decoder gives), then utf8proc's
  // NFKC (decompose with compatibility mappings, reorder marks, compose).
  std::string valid;
  for (auto cp : decode(text)) {
    utf8proc_uint8_t buf[4];
    auto len = utf8proc_encode_char(cp, buf);
    valid.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(len));
  }
  if (valid.empty()) return {};
  utf8proc_uint8_t* out = nullptr;
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(valid.data()),
                                    static_cast<utf8proc_ssize_t>(valid.size()), &out, options);
  if (n < 0) throw ModelError(std::string("cannot normalize the text: ") + utf8proc_errmsg(n));
  std::u16string result = utf16(std::string_view(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n)));
  std::free(out);
  return result;
}

struct Tokenizer::Impl {
  struct Node {
    std::unordered_map<char16_t, std::int32_t> children;
    std::int32_t piece = -1;  // the vocabulary index ending here, or -1
  };
  std::vector<std::u16string> pieces;
  std::vector<double> scores;
  std::vector<Node> trie{1};

  void insert(const std::u16string& key, std::int32_t index) {
    std::int32_t node = 0;
    for (char16_t c : key) {
      auto it = trie[static_cast<std::size_t>(node)].children.find(c);
      if (it == trie[static_cast<std::size_t>(node)].children.end()) {
        trie.emplace_back();
        auto child = static_cast<std::int32_t>(trie.size() - 1);
        trie[static_cast<std::size_t>(node)].children.emplace(c, child);
        node = child;
      } else {
        node = it->second;
      }
    }
    if (!key.empty()) trie[static_cast<std::size_t>(node)].piece = index;
  }
};

Tokenizer::Tokenizer(std::vector<std::pair<std::string, double>> vocabulary) : impl_(std::make_unique<Impl>()) {
  if (vocabulary.size() <= kReserved) throw ModelError("the vocabulary has only " + std::to_string(vocabulary.size()) + " pieces");
  for (auto& [piece, score] : vocabulary) {
    impl_->pieces.push_back(utf16(piece));
    impl_->scores.push_back(score);
  }
  for (std::size_t i = kReserved; i < impl_->pieces.size(); ++i) impl_->insert(impl_->pieces[i], static_cast<std::int32_t>(i));
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::size_t Tokenizer::size() const { return impl_->pieces.size(); }

Tokenizer Tokenizer::load(const std::filesystem::path& vocab_json) {
  std::ifstream in(vocab_json, std::ios::binary);
  if (!in) throw ModelError("cannot read " + vocab_json.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  std::vector<std::pair<std::string, double>> vocabulary;
  try {
    auto doc = boost::json::parse(ss.str());
    for (const auto& entry : doc.as_array()) {
      const auto& pair = entry.as_array();
      if (pair.size() != 2) throw std::invalid_argument("an entry is not a [piece, score] pair");
      // A few pieces (":", "://", "▁:)", ...) have a null score; JavaScript adds null as 0.
      double score = pair.at(1).is_null() ? 0.0 : pair.at(1).to_number<double>();
      vocabulary.emplace_back(std::string(pair.at(0).as_string()), score);
    }
  } catch (const std::exception& e) {
    throw ModelError(vocab_json.string() + " is not a SentencePiece vocabulary ([piece, score] pairs): " + e.what());
  }
  return Tokenizer(std::move(vocabulary));
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view text) const {
  const Impl& v = *impl_;
  std::u16string s = nfkc_utf16(text);
  if (!s.empty()) {
    for (auto& c : s)
      if (c == u' ') c = kSpace;
    s.insert(s.begin(), kSpace);
  }
  const std::size_t n = s.size();
  // Lattice: for each end position, the candidate pieces (start, length, score, id), in the order
  // the JavaScript visits them: by start position, then shorter pieces first.
  struct Candidate {
    std::size_t start, length;
    double score;
    std::int32_t id;
  };
  std::vector<std::vector<Candidate>> ending(n + 1);
  for (std::size_t i = 0; i < n; ++i) {
    bool matched = false;
    std::int32_t node = 0;
    for (std::size_t k = i; k < n; ++k) {
      auto it = v.trie[static_cast<std::size_t>(node)].children.find(s[k]);
      if (it == v.trie[static_cast<std::size_t>(node)].children.end()) break;
      node = it->second;
      if (auto piece = v.trie[static_cast<std::size_t>(node)].piece; piece >= 0) {
        ending[k + 1].push_back({i, k + 1 - i, v.scores[static_cast<std::size_t>(piece)], piece});
        matched = true;
      }
    }
    if (!matched) ending[i + 1].push_back({i, 1, 0.0, 0});  // one unknown unit
  }
  std::vector<double> best(n + 1, 0.0);
  std::vector<std::int32_t> words(n + 1, 0);
  for (std::size_t end = 0; end <= n; ++end) {
    // ending[end] was filled in increasing start order, as JavaScript iterates integer keys.
    for (const auto& c : ending[end]) {
      double score = c.score + best[end - c.length];
      if (best[end] == 0.0 || score >= best[end]) {
        best[end] = score;
        words[end] = c.id;
      }
    }
  }
  std::vector<std::int32_t> reversed;
  for (std::ptrdiff_t at = static_cast<std::ptrdiff_t>(n); at > 0;) {
    auto id = words[static_cast<std::size_t>(at)];
    reversed.push_back(id);
    at -= static_cast<std::ptrdiff_t>(v.pieces[static_cast<std::size_t>(id)].size());
  }
  std::vector<std::int32_t> merged;
  bool previous_unknown = false;
  for (auto id : reversed) {
    if (!(previous_unknown && id == 0)) merged.push_back(id);
    previous_unknown = id == 0;
  }
  return {merged.rbegin(), merged.rend()};
}

}  // namespace mcpd::packs::knowledge::use_lite
