// Conformance fixtures: tools, resources, a resource template, prompts and completions whose names
// and payloads are the ones the conformance scenarios check.
#include "packs/conformance/conformance_pack.hpp"

#include <thread>

#include "core/annotations.hpp"

namespace mcpd::packs::conformance {

namespace json = boost::json;
using core::CallContext;
using core::ToolOutcome;
using core::ToolResult;

namespace {

// A 1x1 PNG and a minimal WAV file, base64.
constexpr const char* kPng = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
constexpr const char* kWav = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

json::object empty_schema() { return json::object{{"type", "object"}, {"properties", json::object{}}}; }

json::object text(std::string t) { return json::object{{"type", "text"}, {"text", std::move(t)}}; }
json::object image() { return json::object{{"type", "image"}, {"data", kPng}, {"mimeType", "image/png"}}; }
json::object embedded(std::string uri, std::string mime, std::string body) {
  return json::object{{"type", "resource"},
                      {"resource", json::object{{"uri", std::move(uri)}, {"mimeType", std::move(mime)}, {"text", std::move(body)}}}};
}

ToolResult content(std::initializer_list<json::object> items) {
  ToolResult r;
  for (const auto& i : items) r.content.push_back(i);
  return r;
}

void pause(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// "Elicitation completed: action=accept, content={...}"
ToolOutcome elicitation_result(const std::string& prefix, const core::Result<json::value>& answer) {
  if (answer.cancelled()) return core::Cancelled{};
  if (answer.failed()) return ToolResult::error("Elicitation failed: " + answer.error().message);
  const auto& v = *answer;
  std::string action = "unknown", body = "{}";
  if (v.is_object()) {
    if (auto a = v.as_object().if_contains("action"); a && a->is_string()) action = std::string(a->get_string());
    if (auto c = v.as_object().if_contains("content")) body = json::serialize(*c);
  }
  return ToolResult::text(prefix + "action=" + action + ", content=" + body);
}

json::value parse(std::string_view s) { return json::parse(s); }

class ConformancePack : public core::Pack {
 public:
  std::string name() const override { return "conformance"; }

  void register_into(core::PackContext& ctx) override {
    auto& r = ctx.registry;
    auto simple = [&](std::string name, std::string description, std::function<ToolOutcome(CallContext&, const json::object&)> fn,
                      core::Execution exec = core::Execution::Inline, json::object schema = empty_schema()) {
      core::Tool t;
      t.name = std::move(name);
      t.description = std::move(description);
      t.input_schema = std::move(schema);
      t.handler = std::move(fn);
      t.execution = exec;
      t.annotations = core::read_only();
      r.add_tool(std::move(t));
    };

    simple("test_simple_text", "Tests simple text content response",
           [](CallContext&, const json::object&) { return ToolResult::text("This is a simple text response for testing."); });
    simple("test_image_content", "Tests image content response",
           [](CallContext&, const json::object&) { return content({image()}); });
    simple("test_audio_content", "Tests audio content response", [](CallContext&, const json::object&) {
      return content({json::object{{"type", "audio"}, {"data", kWav}, {"mimeType", "audio/wav"}}});
    });
    simple("test_embedded_resource", "Tests embedded resource content response", [](CallContext&, const json::object&) {
      return content({embedded("test://embedded-resource", "text/plain", "This is an embedded resource content.")});
    });
    simple("test_multiple_content_types", "Tests response with multiple content types (text, image, resource)",
           [](CallContext&, const json::object&) {
             return content({text("Multiple content types test:"), image(),
                             embedded("test://mixed-content-resource", "application/json", R"({"test":"data","value":123})")});
           });
    simple("test_tool_with_logging", "Tests tool that emits log messages during execution",
           [](CallContext& c, const json::object&) {
             c.log(core::LogLevel::Info, "Tool execution started", "conformance-test-server");
             pause(50);
             c.log(core::LogLevel::Info, "Tool processing data", "conformance-test-server");
             pause(50);
             c.log(core::LogLevel::Info, "Tool execution completed", "conformance-test-server");
             return ToolResult::text("Tool with logging executed successfully");
           },
           core::Execution::Pool);
    simple("test_tool_with_progress", "Tests tool that reports progress notifications",
           [](CallContext& c, const json::object&) {
             for (int step : {0, 50, 100}) {
               c.progress(step, 100, "Completed step " + std::to_string(step) + " of 100");
               if (step < 100) pause(50);
             }
             return ToolResult::text("Progress tool completed");
           },
           core::Execution::Pool);
    simple("test_error_handling", "Tests error response handling", [](CallContext&, const json::object&) {
      return ToolResult::error("This tool intentionally returns an error for testing");
    });
    simple("test_sampling", "Tests server-initiated sampling (LLM completion request)",
           [](CallContext& c, const json::object& args) -> ToolOutcome {
             json::object params{
                 {"messages", json::array{json::object{{"role", "user"}, {"content", text(std::string(args.at("prompt").as_string()))}}}},
                 {"maxTokens", 100}};
             auto answer = c.ask_client("sampling/createMessage", std::move(params));
             if (answer.cancelled()) return core::Cancelled{};
             if (answer.failed()) return ToolResult::error("Sampling failed: " + answer.error().message);
             const auto& v = *answer;
             std::string reply = json::serialize(v);
             if (auto t = v.is_object() ? v.as_object().if_contains("content") : nullptr; t && t->is_object())
               if (auto s = t->as_object().if_contains("text"); s && s->is_string()) reply = std::string(s->get_string());
             return ToolResult::text("LLM response: " + reply);
           },
           core::Execution::Pool,
           json::object{{"type", "object"},
                        {"properties", json::object{{"prompt", json::object{{"type", "string"}, {"description", "The prompt to send to the LLM"}}}}},
                        {"required", json::array{"prompt"}}});
    simple("test_elicitation", "Tests server-initiated elicitation (user input request)",
           [](CallContext& c, const json::object& args) -> ToolOutcome {
             json::object params{
                 {"mode", "form"},
                 {"message", args.at("message")},
                 {"requestedSchema", parse(R"J({"type":"object","properties":{"username":{"type":"string","description":"User's response"},"email":{"type":"string","description":"User's email address"}},"required":["username","email"]})J")}};
             return elicitation_result("User response: ", c.ask_client("elicitation/create", std::move(params)));
           },
           core::Execution::Pool,
           json::object{{"type", "object"},
                        {"properties", json::object{{"message", json::object{{"type", "string"}, {"description", "The message to show the user"}}}}},
                        {"required", json::array{"message"}}});
    simple("test_elicitation_sep1034_defaults", "Tests elicitation with default values per SEP-1034",
           [](CallContext& c, const json::object&) -> ToolOutcome {
             json::object params{
                 {"mode", "form"},
                 {"message", "Please review and update the form fields with defaults"},
                 {"requestedSchema", parse(R"J({"type":"object","properties":{"name":{"type":"string","description":"User name","default":"John Doe"},"age":{"type":"integer","description":"User age","default":30},"score":{"type":"number","description":"User score","default":95.5},"status":{"type":"string","description":"User status","enum":["active","inactive","pending"],"default":"active"},"verified":{"type":"boolean","description":"Verification status","default":true}},"required":[]})J")}};
             return elicitation_result("Elicitation completed: ", c.ask_client("elicitation/create", std::move(params)));
           },
           core::Execution::Pool);
    simple("test_elicitation_sep1330_enums", "Tests elicitation with enum schema improvements per SEP-1330",
           [](CallContext& c, const json::object&) -> ToolOutcome {
             json::object params{
                 {"mode", "form"},
                 {"message", "Please select options from the enum fields"},
                 {"requestedSchema", parse(R"J({"type":"object","properties":{"untitledSingle":{"type":"string","description":"Select one option","enum":["option1","option2","option3"]},"titledSingle":{"type":"string","description":"Select one option with titles","oneOf":[{"const":"value1","title":"First Option"},{"const":"value2","title":"Second Option"},{"const":"value3","title":"Third Option"}]},"legacyEnum":{"type":"string","description":"Select one option (legacy)","enum":["opt1","opt2","opt3"],"enumNames":["Option One","Option Two","Option Three"]},"untitledMulti":{"type":"array","description":"Select multiple options","minItems":1,"maxItems":3,"items":{"type":"string","enum":["option1","option2","option3"]}},"titledMulti":{"type":"array","description":"Select multiple options with titles","minItems":1,"maxItems":3,"items":{"anyOf":[{"const":"value1","title":"First Choice"},{"const":"value2","title":"Second Choice"},{"const":"value3","title":"Third Choice"}]}}},"required":[]})J")}};
             return elicitation_result("Elicitation completed: ", c.ask_client("elicitation/create", std::move(params)));
           },
           core::Execution::Pool);
    simple("test_reconnection", "Tests SSE stream disconnection and resumption with Last-Event-ID (SEP-1699)",
           [](CallContext& c, const json::object&) {
             c.close_stream();
             pause(200);
             return ToolResult::text(
                 "Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.");
           },
           core::Execution::Pool);
    simple("json_schema_2020_12_tool", "Tool with JSON Schema 2020-12 features",
           [](CallContext&, const json::object& args) {
             return ToolResult::text("JSON Schema 2020-12 tool called with: " + json::serialize(args));
           },
           core::Execution::Inline,
           parse(R"J({"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","$defs":{"address":{"$anchor":"addressDef","type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}}}},"properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"},"contactMethod":{"type":"string","enum":["phone","email"]},"phone":{"type":"string"},"email":{"type":"string"}},"allOf":[{"anyOf":[{"required":["phone"]},{"required":["email"]}]}],"if":{"properties":{"contactMethod":{"const":"phone"}},"required":["contactMethod"]},"then":{"required":["phone"]},"else":{"required":["email"]},"additionalProperties":false})J").as_object());

    // echo: the benchmark tool; its structured output shows outputSchema + structuredContent. Written the
    // way a pack's tools are written: one designated initializer per tool.
    r.add_tool(core::Tool{
        .name = "echo",
        .title = "Echo",
        .description = "Returns the message it is given (used by the benchmarks)",
        .input_schema = parse(R"J({"type":"object","properties":{"message":{"type":"string","description":"Text to send back"}},"required":["message"]})J"),
        .output_schema = parse(R"J({"type":"object","properties":{"message":{"type":"string"}},"required":["message"]})J"),
        .annotations = core::read_only(),
        .handler = [](CallContext&, const json::object& args) -> ToolOutcome {
          const auto& message = args.at("message");
          ToolResult result;
          result.content.push_back(json::object{{"type", "text"}, {"text", message}});
          result.structured = json::object{{"message", message}};
          return result;
        },
    });

    // A plain REST route, as packs add them beside MCP: POST /echo {"message"} -> {"message"}.
    core::HttpRoute route;
    route.method = "POST";
    route.path = "/echo";
    route.execution = core::Execution::Inline;
    route.description = "echo over plain REST: {\"message\": TEXT} (conformance pack)";
    route.handler = [](const core::HttpRequest& req) {
      boost::system::error_code ec;
      json::value body = json::parse(req.body, ec);
      const json::value* message = (!ec && body.is_object()) ? body.as_object().if_contains("message") : nullptr;
      if (!message || !message->is_string()) return core::HttpReply::error(400, "the body must be {\"message\": TEXT}");
      return core::HttpReply::json(200, json::object{{"message", *message}, {"principal", req.principal}});
    };
    r.add_http_route(std::move(route));

    add_resources(r);
    add_prompts(r);
  }

 private:
  static void add_resources(core::Registry& r) {
    auto fixed = [&](std::string uri, std::string name, std::string title, std::string description, std::string mime,
                     std::string body, bool blob) {
      core::Resource res;
      res.uri = uri;
      res.name = std::move(name);
      res.title = std::move(title);
      res.description = std::move(description);
      res.mime_type = mime;
      res.read = [uri, mime, body, blob](CallContext&) -> core::ReadOutcome {
        core::ResourceContents c{uri, mime, blob ? "" : body, blob ? body : "", blob};
        return std::vector<core::ResourceContents>{c};
      };
      r.add_resource(std::move(res));
    };
    fixed("test://static-text", "static-text", "Static Text Resource", "A static text resource for testing", "text/plain",
          "This is the content of the static text resource.", false);
    fixed("test://static-binary", "static-binary", "Static Binary Resource", "A static binary resource (image) for testing",
          "image/png", kPng, true);
    fixed("test://watched-resource", "watched-resource", "Watched Resource", "A resource that can be subscribed to",
          "text/plain", "Watched resource content", false);

    core::ResourceTemplate t;
    t.uri_template = "test://template/{id}/data";
    t.name = "template";
    t.title = "Resource Template";
    t.description = "A resource template with parameter substitution";
    t.mime_type = "application/json";
    t.read = [](CallContext&, const std::string& uri, const std::map<std::string, std::string>& vars) -> core::ReadOutcome {
      const std::string& id = vars.at("id");
      json::object body{{"id", id}, {"templateTest", true}, {"data", "Data for ID: " + id}};
      return std::vector<core::ResourceContents>{{uri, "application/json", json::serialize(body), "", false}};
    };
    t.completers["id"] = [](std::string_view prefix, const std::map<std::string, std::string>&) {
      std::vector<std::string> out;
      for (const char* id : {"1", "2", "3", "123"})
        if (std::string_view(id).rfind(prefix, 0) == 0) out.emplace_back(id);
      return out;
    };
    r.add_resource_template(std::move(t));
  }

  static void add_prompts(core::Registry& r) {
    auto message = [](json::object content) { return json::object{{"role", "user"}, {"content", std::move(content)}}; };
    auto prompt = [&](std::string name, std::string description, std::vector<core::PromptArgument> args,
                      std::function<json::array(const std::map<std::string, std::string>&)> messages) {
      core::Prompt p;
      p.name = std::move(name);
      p.description = std::move(description);
      p.arguments = std::move(args);
      p.get = [messages](CallContext&, const std::map<std::string, std::string>& a) -> core::PromptOutcome {
        return json::object{{"messages", messages(a)}};
      };
      return p;
    };
    r.add_prompt(prompt("test_simple_prompt", "A simple prompt without arguments", {}, [message](const auto&) {
      return json::array{message(text("This is a simple prompt for testing."))};
    }));
    auto with_args = prompt("test_prompt_with_arguments", "A prompt with required arguments",
                            {{"arg1", "First test argument", true}, {"arg2", "Second test argument", true}},
                            [message](const std::map<std::string, std::string>& a) {
                              return json::array{message(text("Prompt with arguments: arg1='" + a.at("arg1") + "', arg2='" + a.at("arg2") + "'"))};
                            });
    auto complete_values = [](std::string_view prefix, const std::map<std::string, std::string>&) {
      std::vector<std::string> out;
      for (const char* v : {"test1", "test2", "value1", "value2"})
        if (std::string_view(v).rfind(prefix, 0) == 0) out.emplace_back(v);
      return out;
    };
    with_args.completers["arg1"] = complete_values;
    with_args.completers["arg2"] = complete_values;
    r.add_prompt(std::move(with_args));
    r.add_prompt(prompt("test_prompt_with_embedded_resource", "A prompt that includes an embedded resource",
                        {{"resourceUri", "URI of the resource to embed", true}},
                        [message](const std::map<std::string, std::string>& a) {
                          return json::array{message(embedded(a.at("resourceUri"), "text/plain", "Embedded resource content for testing.")),
                                             message(text("Please process the embedded resource above."))};
                        }));
    r.add_prompt(prompt("test_prompt_with_image", "A prompt that includes image content", {}, [message](const auto&) {
      return json::array{message(image()), message(text("Please analyze the image above."))};
    }));
  }

};

}  // namespace

std::unique_ptr<core::Pack> make_pack() { return std::make_unique<ConformancePack>(); }

}  // namespace mcpd::packs::conformance
