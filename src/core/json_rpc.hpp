// JSON-RPC 2.0 codec: classifies incoming messages and builds replies. No I/O.
#pragma once
#include <boost/json.hpp>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace mcpd::core {
namespace json = boost::json;

namespace error_code {
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kResourceNotFound = -32002;
}  // namespace error_code

struct RpcError {
  int code = error_code::kInternalError;
  std::string message;
  json::value data = nullptr;
};

enum class MessageKind { Request, Notification, Response, Error };

struct Message {
  MessageKind kind = MessageKind::Request;
  json::value id = nullptr;  // string or integer; null for notifications
  std::string key;           // id_key(id) for requests and responses: the one key by which a call is found
  std::string method;
  json::object params;       // empty when absent
  bool has_params = false;
  json::value result = nullptr;
  RpcError error;
};

// A message that failed validation still carries the id (if any) so the error can be addressed.
struct InvalidMessage {
  json::value id = nullptr;
  RpcError error;
  std::string method;  // when it named one: a malformed initialize is still routed as an initialize
};

using Classified = std::variant<Message, InvalidMessage>;

// Classifies a message once, where it enters (the transport), so that nothing downstream inspects the
// JSON again. The rvalue form moves params and result out of `value` instead of copying them.
Classified classify(const json::value& value);
Classified classify(json::value&& value);

// What a transport needs to route a classified message.
inline const std::string& method_of(const Classified& c) {
  return std::holds_alternative<Message>(c) ? std::get<Message>(c).method : std::get<InvalidMessage>(c).method;
}
inline const json::value& id_of(const Classified& c) {
  return std::holds_alternative<Message>(c) ? std::get<Message>(c).id : std::get<InvalidMessage>(c).id;
}
// A request (valid or not) gets an answer; notifications and responses do not (an invalid one gets
// an error without an id).
inline bool expects_answer(const Classified& c) {
  if (auto* m = std::get_if<Message>(&c)) return m->kind == MessageKind::Request;
  return !std::get<InvalidMessage>(c).id.is_null();
}

// Parses text; on failure returns the -32700 error.
std::variant<json::value, RpcError> parse_json(std::string_view text);
// The same, refusing (-32600) a message whose parsed form would take more than `max_parsed_bytes`:
// text as small as "1," becomes a 16-byte value, so a body of tiny values is bounded here, not by
// its size on the wire.
std::variant<json::value, RpcError> parse_json(std::string_view text, std::size_t max_parsed_bytes);

json::object make_result(const json::value& id, json::value result);
json::object make_error(const json::value& id, const RpcError& error);
json::object make_notification(std::string_view method, json::value params = nullptr);
json::object make_request(const json::value& id, std::string_view method, json::value params);

// The size of `value` as JSON text, counted without building the text; counting stops past `limit`
// (the result is then limit + 1), so measuring a huge answer costs no memory.
std::size_t serialized_size(const json::object& value, std::size_t limit);

// The error that replaces an answer larger than `max_bytes`.
RpcError response_too_large(std::size_t max_bytes);
// `answer` when its JSON text takes at most `max_bytes`, else the error answer to request `id` saying
// it was too large: the one bound on every answer the dispatcher sends.
json::object within_bound(json::object answer, const json::value& id, std::size_t max_bytes);

// How many members the JSON array in `text` has, found by scanning the text without parsing it and
// counted only up to `limit` + 1; nullopt when the text is not an array. For valid JSON the count is
// exact; anything else fails the real parse afterwards.
std::optional<std::size_t> count_batch_members(std::string_view text, std::size_t limit);

// Why a batch of `members` messages may not run in a session that negotiated `protocol_version`
// (empty: not initialized yet); nullopt when it may. Batches exist only in protocol 2025-03-26.
std::optional<RpcError> refuse_batch(std::size_t members, std::string_view protocol_version, std::size_t max_batch);
// The same for the parsed members: an initialize is never allowed inside a batch.
std::optional<RpcError> refuse_batch(const json::array& batch, std::string_view protocol_version, std::size_t max_batch);

// Gathers a batch's answers into the text of one JSON array within `max_bytes`: an answer that would
// take the array past it is replaced by a short error, so the whole answer stays bounded whatever the
// members return. Thread-safe; answers may arrive in any order from any thread.
class BatchAnswers {
 public:
  // `done` gets the array text, or "" when no member had an answer (only notifications and responses).
  BatchAnswers(std::size_t members, std::size_t max_bytes, std::function<void(std::string)> done);
  void add(std::optional<json::object> answer);
  // Called once after every member was handed to the dispatcher, so `done` cannot run before that.
  void seal() { add(std::nullopt); }

 private:
  std::mutex mutex_;
  std::size_t pending_;
  std::size_t max_bytes_;
  std::string text_;
  std::function<void(std::string)> done_;
};

// A stable string key for a request id ("s:abc" / "n:42"), used to index in-flight maps.
std::string id_key(const json::value& id);

}  // namespace mcpd::core
