// Fuzzes what every transport does first with a message's text (src/core/json_rpc.*): the batch count
// taken before parsing, the parse within the memory budget, classification, and the answers built from it.
#include <boost/json.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "core/json_rpc.hpp"
#include "fuzz_check.hpp"

using namespace mcpd::core;

namespace {

// The answer a server would give to a classified message, as the client side would read it back.
void check_answer_round_trip(const json::object& answer, const json::value& id, bool is_error) {
  const std::string text = json::serialize(answer);
  auto reread = parse_json(text);
  FUZZ_CHECK(std::holds_alternative<json::value>(reread), "an answer the codec built parses again");
  auto c = classify(std::get<json::value>(reread));
  if (id.is_null()) return;  // an error to an unreadable request has id null, which classify refuses
  auto* m = std::get_if<Message>(&c);
  FUZZ_CHECK(m != nullptr, "an answer with an id classifies as a message");
  FUZZ_CHECK(m->kind == (is_error ? MessageKind::Error : MessageKind::Response), "an answer keeps its kind");
  FUZZ_CHECK(m->id == id, "an answer keeps its id");
}

// Classifies one message and returns the answer the dispatcher's codec would build for it, if any.
std::optional<json::object> classify_and_answer(const json::value& v) {
  auto c = classify(v);
  if (auto* bad = std::get_if<InvalidMessage>(&c)) {
    FUZZ_CHECK(bad->error.code == error_code::kInvalidRequest || bad->error.code == error_code::kInvalidParams,
               "an invalid message is -32600 or -32602");
    FUZZ_CHECK(bad->error.message.rfind("Invalid ", 0) == 0, "the error says what was invalid");
    auto answer = make_error(bad->id, bad->error);
    check_answer_round_trip(answer, bad->id, true);
    return answer;
  }
  const auto& m = std::get<Message>(c);
  FUZZ_CHECK(v.is_object(), "only an object is a message");
  const auto& obj = v.get_object();
  switch (m.kind) {
    case MessageKind::Request: {
      FUZZ_CHECK(m.id.is_string() || m.id.is_int64() || m.id.is_uint64(), "a request id is a string or an integer");
      std::string key = id_key(m.id);
      FUZZ_CHECK(key.rfind("s:", 0) == 0 || key.rfind("n:", 0) == 0, "a request id has a key");
      if (m.has_params) FUZZ_CHECK(m.params == obj.at("params").get_object(), "params are kept as sent");
      auto answer = make_result(m.id, json::object{{"echo", m.method}});
      check_answer_round_trip(answer, m.id, false);
      return answer;
    }
    case MessageKind::Notification:
      FUZZ_CHECK(!obj.contains("id") && m.id.is_null(), "a notification has no id");
      return std::nullopt;
    case MessageKind::Response:
    case MessageKind::Error:
      FUZZ_CHECK(!m.id.is_null(), "a response answers an id");
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto plain = parse_json(text);
  const json::value* value = std::get_if<json::value>(&plain);

  // The batch count, as the transports take it before parsing: exact for valid JSON.
  const std::size_t limit = size % 70;  // 0 (legacy SSE asks only "is it an array") to above max_batch
  auto members = count_batch_members(text, limit);
  if (value) {
    if (value->is_array()) {
      FUZZ_CHECK(members.has_value(), "a JSON array is counted");
      FUZZ_CHECK(*members == std::min(value->get_array().size(), limit + 1),
                 "a valid array's count is exact up to limit + 1");
    } else {
      FUZZ_CHECK(!members.has_value(), "only an array counts as a batch");
    }
  }

  // The parse within a memory budget: the same value when it fits, a -32600 refusal when it does not,
  // and never a refusal at 32 bytes per byte: parse_json skips the budget for a text of at most a
  // 32nd of it, which is sound only if no text takes more. (json_rpc.cpp says 24; a 200-member
  // "[1,1,…]" takes 27 bytes per byte, and 257 members exactly 32: tests/fuzz/regressions/json_rpc.)
  for (std::size_t per_byte : {1, 4, 24, 32}) {
    const std::size_t budget = std::max<std::size_t>(size * per_byte, 1);
    auto budgeted = parse_json(text, budget);
    if (!value) {
      FUZZ_CHECK(std::holds_alternative<RpcError>(budgeted), "text that is not JSON never parses under a budget");
      continue;
    }
    if (auto* v = std::get_if<json::value>(&budgeted)) {
      // Compared as text: a NaN (see below) is not equal to itself.
      FUZZ_CHECK(json::serialize(*v) == json::serialize(*value), "the budgeted parse gives the same value");
    } else {
      const auto& e = std::get<RpcError>(budgeted);
      FUZZ_CHECK(e.code == error_code::kInvalidRequest, "valid JSON is refused only for the memory it takes");
      FUZZ_CHECK(per_byte < 32, "no text takes more than 32 bytes of memory per byte once parsed");
    }
  }
  if (!value) {
    const auto& e = std::get<RpcError>(plain);
    FUZZ_CHECK(e.code == error_code::kParseError, "text that is not JSON is -32700");
    return 0;
  }
  // Whatever the codec accepts, it can write back: an answer that echoes a client's value must be
  // JSON. (Boost.JSON 1.81 reads 0e400 as NaN and writes NaN: tests/fuzz/regressions/json_rpc.)
  FUZZ_CHECK(std::holds_alternative<json::value>(parse_json(json::serialize(*value))),
             "a parsed message writes back as JSON");

  if (!value->is_array()) {
    if (auto answer = classify_and_answer(*value)) {
      // The one bound on every answer: unchanged within it, an error past it.
      const std::size_t max_bytes = 16 + size % 512;
      const std::size_t exact = json::serialize(*answer).size();
      const std::size_t counted = serialized_size(*answer, max_bytes);
      FUZZ_CHECK(counted == (exact <= max_bytes ? exact : max_bytes + 1), "serialized_size counts exactly up to the limit");
      auto bounded = within_bound(*answer, answer->at("id"), max_bytes);
      if (exact <= max_bytes) FUZZ_CHECK(bounded == *answer, "an answer within the bound is unchanged");
      else FUZZ_CHECK(bounded.at("error").at("code").as_int64() == error_code::kInvalidRequest, "an answer past the bound is an error");
    }
    return 0;
  }

  // A batch: refused without a session or in protocols that have none, else every member answered
  // within the batch's bound.
  const auto& batch = value->get_array();
  FUZZ_CHECK(refuse_batch(batch, "", 64).has_value(), "a batch cannot open a session");
  FUZZ_CHECK(refuse_batch(batch, "2025-06-18", 64).has_value(), "batches do not exist in 2025-06-18");
  if (refuse_batch(batch, "2025-03-26", 64)) return 0;
  FUZZ_CHECK(!batch.empty() && batch.size() <= 64, "an accepted batch has 1 to max_batch members");
  std::optional<std::string> out;
  const std::size_t max_bytes = 64 + size % 1024;
  BatchAnswers answers(batch.size(), max_bytes, [&](std::string s) {
    FUZZ_CHECK(!out.has_value(), "a batch is answered once");
    out = std::move(s);
  });
  std::size_t answered = 0;
  for (const auto& member : batch) {
    auto a = classify_and_answer(member);
    answered += a.has_value();
    answers.add(std::move(a));
  }
  FUZZ_CHECK(!out.has_value(), "a batch is not answered before it is sealed");
  answers.seal();
  FUZZ_CHECK(out.has_value(), "a sealed batch is answered");
  if (answered == 0) {
    FUZZ_CHECK(out->empty(), "a batch with nothing to answer gets no answer");
    return 0;
  }
  auto reread = parse_json(*out);
  FUZZ_CHECK(std::holds_alternative<json::value>(reread) && std::get<json::value>(reread).is_array(),
             "a batch answer is a JSON array");
  FUZZ_CHECK(std::get<json::value>(reread).get_array().size() == answered, "every answer is in the batch answer");
  return 0;
}
