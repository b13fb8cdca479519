// Small request helpers shared by the HTTP handlers.
#include "transport/http_context.hpp"

namespace mcpd::transport {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string_view target_path(const Request& request) {
  std::string_view target = request.target();
  return target.substr(0, target.find('?'));
}

namespace {
std::string url_decode(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '+') {
      out.push_back(' ');
    } else if (v[i] == '%' && i + 2 < v.size() && hex_value(v[i + 1]) >= 0 && hex_value(v[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(v[i + 1]) * 16 + hex_value(v[i + 2])));
      i += 2;
    } else {
      out.push_back(v[i]);
    }
  }
  return out;
}
}  // namespace

std::map<std::string, std::string> query_params(const Request& request) {
  std::map<std::string, std::string> out;
  std::string_view target = request.target();
  auto q = target.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (!pair.empty())
      out[url_decode(pair.substr(0, eq))] = eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return out;
}

std::string query_param(const Request& request, std::string_view name) {
  auto params = query_params(request);
  auto it = params.find(std::string(name));
  return it == params.end() ? std::string() : it->second;
}

}  // namespace mcpd::transport
