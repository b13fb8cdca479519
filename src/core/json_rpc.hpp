// JSON-RPC 2.0 codec: classifies incoming messages and builds replies. No I/O.
#pragma once
#include <boost/json.hpp>
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
};

using Classified = std::variant<Message, InvalidMessage>;

Classified classify(const json::value& value);

// Parses text; on failure returns the -32700 error.
std::variant<json::value, RpcError> parse_json(std::string_view text);

json::object make_result(const json::value& id, json::value result);
json::object make_error(const json::value& id, const RpcError& error);
json::object make_notification(std::string_view method, json::value params = nullptr);
json::object make_request(const json::value& id, std::string_view method, json::value params);

// A stable string key for a request id ("s:abc" / "n:42"), used to index in-flight maps.
std::string id_key(const json::value& id);

}  // namespace mcpd::core
