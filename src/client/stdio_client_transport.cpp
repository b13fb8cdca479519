// Client transport that spawns the server and speaks line-delimited JSON-RPC over its stdin/stdout.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "client/client.hpp"
#include "core/json_rpc.hpp"

namespace mcpd::client {

namespace {

class StdioClientTransport : public ClientTransport {
 public:
  explicit StdioClientTransport(const std::vector<std::string>& argv) {
    if (argv.empty()) throw std::invalid_argument("no server command to spawn");
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid_ == 0) {
      dup2(to_child[0], 0);
      dup2(from_child[1], 1);
      close(to_child[1]);
      close(from_child[0]);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    in_ = to_child[1];
    out_ = from_child[0];
  }

  ~StdioClientTransport() override {
    close(in_);  // EOF: the server drains and exits
    int status = 0;
    for (int i = 0; i < 200; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        close(out_);
        return;
      }
      usleep(10000);
    }
    kill(pid_, SIGTERM);
    waitpid(pid_, &status, 0);
    close(out_);
  }

  json::object request(const json::object& message) override {
    write_line(json::serialize(message));
    std::string key = core::id_key(message.at("id"));
    for (;;) {
      json::value v = read_message();
      if (!v.is_object()) continue;
      auto& o = v.as_object();
      if (o.contains("method")) {
        if (o.contains("id"))  // a server->client request this client cannot serve
          write_line(json::serialize(core::make_error(o.at("id"), {core::error_code::kMethodNotFound, "mcpd client does not support " + std::string(o.at("method").as_string()), nullptr})));
        else if (on_notification)
          on_notification(o);
        continue;
      }
      if (o.contains("id") && core::id_key(o.at("id")) == key) return o;
    }
  }

  void notify(const json::object& message) override { write_line(json::serialize(message)); }

 private:
  void write_line(std::string line) {
    line.push_back('\n');
    std::size_t off = 0;
    while (off < line.size()) {
      ssize_t n = write(in_, line.data() + off, line.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error("the server closed its stdin");
      off += static_cast<std::size_t>(n);
    }
  }

  json::value read_message() {
    for (;;) {
      auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        if (line.empty()) continue;
        boost::system::error_code ec;
        json::value v = json::parse(line, ec);
        if (ec) throw std::runtime_error("the server wrote a line that is not JSON: " + line.substr(0, 200));
        return v;
      }
      char chunk[65536];
      ssize_t n = read(out_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error("the server exited before answering");
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  std::string buffer_;
};

}  // namespace

std::unique_ptr<ClientTransport> make_stdio_transport(const std::vector<std::string>& argv) {
  return std::make_unique<StdioClientTransport>(argv);
}

}  // namespace mcpd::client
