// JSON-RPC 2.0 codec implementation.
#include "core/json_rpc.hpp"

#include <atomic>
#include <cmath>
#include <limits>
#include <memory>
#include <new>
#include <type_traits>

namespace mcpd::core {

namespace {
bool valid_id(const json::value& id) { return id.is_string() || id.is_int64() || id.is_uint64(); }

// Heap memory with a budget while a message is parsed: an allocation past it throws std::bad_alloc,
// which ends the parse. Lifted afterwards, so a later copy that lands here never fails.
class BudgetResource final : public json::memory_resource {
 public:
  // The budget is shared with the caller, who lifts it after the parse (the resource itself sits
  // inside the storage_ptr's wrapper and cannot be reached by a cast).
  explicit BudgetResource(std::shared_ptr<std::atomic<std::size_t>> left) : left_(std::move(left)) {}
  static void lift(std::atomic<std::size_t>& left) { left.store(std::numeric_limits<std::size_t>::max() / 2); }

 private:
  void* do_allocate(std::size_t n, std::size_t align) override {
    std::size_t left = left_->load();
    do {
      if (n > left) throw std::bad_alloc();
    } while (!left_->compare_exchange_weak(left, left - n));
    (void)align;  // Boost.JSON asks for at most max_align_t, which plain new gives
    return ::operator new(n);
  }
  void do_deallocate(void* p, std::size_t n, std::size_t align) override {
    // Unsized: Boost.JSON may free a block with another size than it asked for (ASan reports a
    // sized delete that disagrees); the budget only needs to be close, and is lifted after the parse.
    (void)align;
    ::operator delete(p);
    left_->fetch_add(n);
  }
  bool do_is_equal(const json::memory_resource& other) const noexcept override { return this == &other; }

  std::shared_ptr<std::atomic<std::size_t>> left_;
};

InvalidMessage invalid(json::value id, std::string message) {
  return InvalidMessage{std::move(id), RpcError{error_code::kInvalidRequest, std::move(message), nullptr}};
}
}  // namespace

namespace {

// The one classifier; `Source` is a const or a movable object, so that the rvalue form takes params
// and result over without a copy.
template <typename Object>
Classified classify_object(Object& obj) {
  json::value id = nullptr;
  if (auto it = obj.find("id"); it != obj.end()) {
    if (!valid_id(it->value())) return invalid(nullptr, "Invalid Request: 'id' must be a string or an integer");
    id = it->value();
  }
  auto named = [&]() -> std::string {
    auto m = obj.find("method");
    return m != obj.end() && m->value().is_string() ? std::string(m->value().get_string()) : std::string();
  };
  auto version = obj.find("jsonrpc");
  if (version == obj.end() || !version->value().is_string() || version->value().get_string() != "2.0") {
    auto bad = invalid(id, "Invalid Request: 'jsonrpc' must be \"2.0\"");
    bad.method = named();
    return bad;
  }

  Message msg;
  msg.id = id;
  if (auto m = obj.find("method"); m != obj.end()) {
    if (!m->value().is_string()) return invalid(id, "Invalid Request: 'method' must be a string");
    msg.method = std::string(m->value().get_string());
    if (auto p = obj.find("params"); p != obj.end() && !p->value().is_null()) {
      if (!p->value().is_object())
        return InvalidMessage{id, RpcError{error_code::kInvalidParams, "Invalid params: 'params' must be an object", nullptr},
                              msg.method};
      if constexpr (std::is_const_v<Object>) msg.params = p->value().get_object();
      else msg.params = std::move(p->value().get_object());
      msg.has_params = true;
    }
    msg.kind = obj.contains("id") ? MessageKind::Request : MessageKind::Notification;
    if (msg.kind == MessageKind::Request) msg.key = id_key(msg.id);
    return msg;
  }
  if (!obj.contains("id")) return invalid(nullptr, "Invalid Request: a message needs 'method' or 'id'");
  msg.key = id_key(msg.id);
  if (auto r = obj.find("result"); r != obj.end()) {
    msg.kind = MessageKind::Response;
    if constexpr (std::is_const_v<Object>) msg.result = r->value();
    else msg.result = std::move(r->value());
    return msg;
  }
  if (auto e = obj.find("error"); e != obj.end() && e->value().is_object()) {
    msg.kind = MessageKind::Error;
    const auto& eo = e->value().get_object();
    if (auto c = eo.find("code"); c != eo.end() && c->value().is_int64()) msg.error.code = static_cast<int>(c->value().get_int64());
    if (auto t = eo.find("message"); t != eo.end() && t->value().is_string()) msg.error.message = std::string(t->value().get_string());
    if (auto d = eo.find("data"); d != eo.end()) msg.error.data = d->value();
    return msg;
  }
  return invalid(id, "Invalid Request: a response needs 'result' or 'error'");
}

}  // namespace

Classified classify(const json::value& value) {
  if (!value.is_object()) return invalid(nullptr, "Invalid Request: a JSON-RPC message must be a JSON object");
  return classify_object(value.get_object());
}

Classified classify(json::value&& value) {
  if (!value.is_object()) return invalid(nullptr, "Invalid Request: a JSON-RPC message must be a JSON object");
  return classify_object(value.get_object());
}

namespace {

// Boost.JSON 1.81 reads a number beyond a double's range as infinity (and 0e400 as NaN), which it
// then writes back as text that is not JSON: an answer echoing it would be unreadable. Found by fuzzing.
bool all_finite(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_: return std::isfinite(v.get_double());
    case json::kind::array:
      for (const auto& item : v.get_array())
        if (!all_finite(item)) return false;
      return true;
    case json::kind::object:
      for (const auto& item : v.get_object())
        if (!all_finite(item.value())) return false;
      return true;
    default: return true;
  }
}

std::variant<json::value, RpcError> finite_or_error(json::value v) {
  if (!all_finite(v))
    return RpcError{error_code::kParseError, "Parse error: a number is beyond the range of a 64-bit float", nullptr};
  return v;
}

}  // namespace

std::variant<json::value, RpcError> parse_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return RpcError{error_code::kParseError, "Parse error: " + ec.message(), nullptr};
  return finite_or_error(std::move(v));
}

std::variant<json::value, RpcError> parse_json(std::string_view text, std::size_t max_parsed_bytes) {
  // No text parses into more than 24 bytes of memory per byte, the parser's stack included (the
  // densest shape, "[1,1,…]", reaches it: 16 bytes a value, with the stack grown by doubling; the unit
  // test checks every dense shape at 24). A message of at most a 32nd of the budget cannot pass it,
  // so it is parsed without one: the budgeted parse costs about twice as much (callgrind: ~4,900
  // instructions more per small tools/call).
  if (text.size() <= max_parsed_bytes / 32) return parse_json(text);
  boost::system::error_code ec;
  json::value v;
  try {
    // The parsed value keeps the budget (its memory resource) for as long as it lives; copies of
    // parts of it use the ordinary heap and are at most as large.
    auto budget = std::make_shared<std::atomic<std::size_t>>(max_parsed_bytes);
    auto storage = json::make_shared_resource<BudgetResource>(budget);
    // The parser's own stack (every value of an open array waits there) counts against the budget too.
    unsigned char scratch[4096];
    json::parser parser(storage, {}, scratch, sizeof scratch);
    parser.reset(storage);
    parser.write(text.data(), text.size(), ec);
    if (!ec) v = parser.release();
    BudgetResource::lift(*budget);
  } catch (const std::bad_alloc&) {
    return RpcError{error_code::kInvalidRequest,
                    "Invalid Request: the message holds too many JSON values: parsed it would take more than " +
                        std::to_string(max_parsed_bytes) +
                        " bytes of memory (twice server.max_body_bytes); send fewer, larger values",
                    nullptr};
  }
  if (ec) return RpcError{error_code::kParseError, "Parse error: " + ec.message(), nullptr};
  return finite_or_error(std::move(v));
}

json::object make_result(const json::value& id, json::value result) {
  json::object o;
  o["jsonrpc"] = "2.0";
  o["id"] = id;
  o["result"] = std::move(result);
  return o;
}

json::object make_error(const json::value& id, const RpcError& error) {
  json::object e;
  e["code"] = error.code;
  e["message"] = error.message;
  if (!error.data.is_null()) e["data"] = error.data;
  json::object o;
  o["jsonrpc"] = "2.0";
  o["id"] = id;
  o["error"] = std::move(e);
  return o;
}

json::object make_notification(std::string_view method, json::value params) {
  json::object o;
  o["jsonrpc"] = "2.0";
  o["method"] = method;
  if (!params.is_null()) o["params"] = std::move(params);
  return o;
}

json::object make_request(const json::value& id, std::string_view method, json::value params) {
  json::object o;
  o["jsonrpc"] = "2.0";
  o["id"] = id;
  o["method"] = method;
  if (!params.is_null()) o["params"] = std::move(params);
  return o;
}

std::size_t serialized_size(const json::object& value, std::size_t limit) {
  json::serializer serializer;
  serializer.reset(&value);
  char buffer[4096];
  std::size_t total = 0;
  while (!serializer.done()) {
    total += serializer.read(buffer, sizeof buffer).size();
    if (total > limit) return limit + 1;
  }
  return total;
}

RpcError response_too_large(std::size_t max_bytes) {
  return RpcError{error_code::kInvalidRequest,
                  "Response too large: the answer would be more than " + std::to_string(max_bytes) +
                      " bytes (server.max_response_bytes); ask for less at a time, e.g. fewer rows or a smaller page",
                  json::object{{"maxBytes", max_bytes}}};
}

json::object within_bound(json::object answer, const json::value& id, std::size_t max_bytes) {
  if (serialized_size(answer, max_bytes) > max_bytes) return make_error(id, response_too_large(max_bytes));
  return answer;
}

std::optional<std::size_t> count_batch_members(std::string_view text, std::size_t limit) {
  std::size_t i = text.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos || text[i] != '[') return std::nullopt;
  std::size_t commas = 0;
  bool any = false, in_string = false, escaped = false;
  int depth = 0;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (depth == 1 && c != ']') any = true;
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') ++depth;
    else if (c == ']' || c == '}') {
      if (--depth == 0) break;
    } else if (c == ',' && depth == 1 && ++commas >= limit) {
      return limit + 1;
    }
  }
  return any ? commas + 1 : 0;
}

std::optional<RpcError> refuse_batch(std::size_t members, std::string_view protocol_version, std::size_t max_batch) {
  auto invalid = [](std::string message) { return RpcError{error_code::kInvalidRequest, std::move(message), nullptr}; };
  if (protocol_version.empty())
    return invalid("Invalid Request: a batch cannot open a session; send 'initialize' on its own first");
  if (protocol_version >= "2025-06-18")
    return invalid("Invalid Request: JSON-RPC batches are not part of MCP " + std::string(protocol_version) +
                   "; send one message per request");
  if (members == 0) return invalid("Invalid Request: empty batch");
  if (members > max_batch)
    return invalid("Invalid Request: a batch may hold at most " + std::to_string(max_batch) +
                   " messages (server.max_batch); split it or send one message per request");
  return std::nullopt;
}

std::optional<RpcError> refuse_batch(const json::array& batch, std::string_view protocol_version, std::size_t max_batch) {
  if (auto refused = refuse_batch(batch.size(), protocol_version, max_batch)) return refused;
  for (const auto& member : batch)
    if (auto* o = member.if_object())
      if (auto m = o->if_contains("method"); m && m->is_string() && m->get_string() == "initialize")
        return RpcError{error_code::kInvalidRequest,
                        "Invalid Request: 'initialize' must be sent on its own, never inside a batch", nullptr};
  return std::nullopt;
}

BatchAnswers::BatchAnswers(std::size_t members, std::size_t max_bytes, std::function<void(std::string)> done)
    : pending_(members + 1), max_bytes_(max_bytes), done_(std::move(done)) {}

void BatchAnswers::add(std::optional<json::object> answer) {
  std::string text;
  if (answer) text = json::serialize(*answer);
  std::function<void(std::string)> done;
  std::string out;
  {
    std::lock_guard lock(mutex_);
    if (answer) {
      // +2 for the separator and the closing bracket.
      if (text_.size() + text.size() + 2 > max_bytes_) {
        auto id = answer->if_contains("id");
        text = json::serialize(make_error(id ? *id : json::value(nullptr), response_too_large(max_bytes_)));
      }
      text_.push_back(text_.empty() ? '[' : ',');
      text_ += text;
    }
    if (--pending_ > 0) return;
    if (!text_.empty()) text_.push_back(']');
    out = std::move(text_);
    done = std::move(done_);
  }
  done(std::move(out));
}

std::string id_key(const json::value& id) {
  if (id.is_string()) return "s:" + std::string(id.get_string());
  if (id.is_int64()) return "n:" + std::to_string(id.get_int64());
  if (id.is_uint64()) return "n:" + std::to_string(id.get_uint64());
  return "null";
}

}  // namespace mcpd::core
