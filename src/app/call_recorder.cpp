// CallRecorder: metrics, debug log and audit row of each tool call.
#include "app/call_recorder.hpp"

#include <algorithm>

#include "infra/logging.hpp"
#include "infra/masking.hpp"

namespace mcpd::app {

namespace {

infra::AuditRecord audit_record(const core::ToolCallEvent& call) {
  infra::AuditRecord r;
  r.principal = call.session.principal();
  r.session = call.session.id();
  r.tool = std::string(call.tool);
  r.raw_arguments = call.arguments;  // redacted by the audit log's writer thread
  r.outcome = std::string(call.outcome);
  r.duration_ms = call.seconds * 1000.0;
  if (!call.result) {
    r.error = "unknown tool";
  } else if (call.result->cancelled()) {
    r.error = "cancelled";
  } else if (call.result->failed()) {
    r.error = infra::mask_text(call.result->error().message);
  } else {
    const auto& result = call.result->value();
    if (result.is_error && !result.content.empty() && result.content[0].is_object())
      if (auto text = result.content[0].as_object().if_contains("text"); text && text->is_string())
        r.error = infra::mask_text(std::string(text->get_string().subview(0, std::min<std::size_t>(500, text->get_string().size()))));
    if (auto v = result.audit.if_contains("rows"); v && v->is_int64()) r.rows = v->get_int64();
    if (auto v = result.audit.if_contains("bytes"); v && v->is_int64()) r.bytes = v->get_int64();
  }
  return r;
}

}  // namespace

void CallRecorder::on_tool_call(const core::ToolCallEvent& call) {
  if (metrics_) metrics_->tool_call(call.tool, call.outcome, call.seconds);
  if (infra::log::enabled(infra::log::Level::Debug))
    infra::log::debug("tool call", {{"tool", call.tool}, {"outcome", call.outcome}, {"principal", call.session.principal()},
                                    {"ms", call.seconds * 1000.0}});
  if (audit_) audit_->record(audit_record(call));
}

}  // namespace mcpd::app
