// JSON-RPC 2.0 codec implementation.
#include "core/json_rpc.hpp"

namespace mcpd::core {

namespace {
bool valid_id(const json::value& id) { return id.is_string() || id.is_int64() || id.is_uint64(); }

InvalidMessage invalid(json::value id, std::string message) {
  return InvalidMessage{std::move(id), RpcError{error_code::kInvalidRequest, std::move(message), nullptr}};
}
}  // namespace

Classified classify(const json::value& value) {
  if (!value.is_object()) return invalid(nullptr, "Invalid Request: a JSON-RPC message must be a JSON object");
  const auto& obj = value.get_object();
  json::value id = nullptr;
  if (auto it = obj.find("id"); it != obj.end()) {
    if (!valid_id(it->value())) return invalid(nullptr, "Invalid Request: 'id' must be a string or an integer");
    id = it->value();
  }
  auto version = obj.find("jsonrpc");
  if (version == obj.end() || !version->value().is_string() || version->value().get_string() != "2.0")
    return invalid(id, "Invalid Request: 'jsonrpc' must be \"2.0\"");

  Message msg;
  msg.id = id;
  if (auto m = obj.find("method"); m != obj.end()) {
    if (!m->value().is_string()) return invalid(id, "Invalid Request: 'method' must be a string");
    msg.method = std::string(m->value().get_string());
    if (auto p = obj.find("params"); p != obj.end() && !p->value().is_null()) {
      if (!p->value().is_object())
        return InvalidMessage{id, RpcError{error_code::kInvalidParams, "Invalid params: 'params' must be an object", nullptr}};
      msg.params = p->value().get_object();
      msg.has_params = true;
    }
    msg.kind = obj.contains("id") ? MessageKind::Request : MessageKind::Notification;
    return msg;
  }
  if (!obj.contains("id")) return invalid(nullptr, "Invalid Request: a message needs 'method' or 'id'");
  if (auto r = obj.find("result"); r != obj.end()) {
    msg.kind = MessageKind::Response;
    msg.result = r->value();
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

std::variant<json::value, RpcError> parse_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return RpcError{error_code::kParseError, "Parse error: " + ec.message(), nullptr};
  return v;
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

std::string id_key(const json::value& id) {
  if (id.is_string()) return "s:" + std::string(id.get_string());
  if (id.is_int64()) return "n:" + std::to_string(id.get_int64());
  if (id.is_uint64()) return "n:" + std::to_string(id.get_uint64());
  return "null";
}

}  // namespace mcpd::core
