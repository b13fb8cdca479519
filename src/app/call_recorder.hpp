// What every tool call leaves behind, whoever called it (MCP clients, REST, the CLI): a metric, a
// debug log line, and a row in the audit log.
#pragma once
#include "core/dispatcher.hpp"
#include "infra/audit_log.hpp"
#include "infra/metrics.hpp"

namespace mcpd::app {

class CallRecorder : public core::CallObserver {
 public:
  // `metrics` and `audit` may be null (the CLI has no metrics; the audit log may be off).
  CallRecorder(infra::Metrics* metrics, infra::AuditLog* audit) : metrics_(metrics), audit_(audit) {}
  bool wants_arguments() const override { return audit_ != nullptr; }
  void on_tool_call(const core::ToolCallEvent& call) override;

 private:
  infra::Metrics* metrics_;
  infra::AuditLog* audit_;
};

}  // namespace mcpd::app
