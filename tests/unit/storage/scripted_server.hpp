// A scripted HTTP server on loopback for the S3 client's tests: one canned answer for every
// request, which it counts and whose request line it keeps, exactly as it arrived.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

namespace mcpd::test {

// Answers every request with the current canned answer, counts the requests and keeps the last
// request line ("GET /bucket/key HTTP/1.1") as it arrived.
class ScriptedServer {
 public:
  ScriptedServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0)
      throw std::runtime_error("cannot listen on loopback");
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }

  void answer(int status, std::string body) {
    std::lock_guard lock(mutex_);
    status_ = status;
    body_ = std::move(body);
  }
  int requests() const { return requests_; }
  std::string last_request_line() {
    std::lock_guard lock(mutex_);
    return last_request_line_;
  }
  void reset() { requests_ = 0; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  void serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string request;
      char buf[4096];
      // Headers, then as much body as Content-Length says.
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        request.append(buf, static_cast<std::size_t>(n));
      }
      std::size_t length = 0;
      if (auto p = request.find("Content-Length: "); p != std::string::npos) length = std::stoul(request.substr(p + 16));
      const auto header_end = request.find("\r\n\r\n");
      while (header_end != std::string::npos && request.size() < header_end + 4 + length) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        request.append(buf, static_cast<std::size_t>(n));
      }
      ++requests_;
      int status;
      std::string body;
      {
        std::lock_guard lock(mutex_);
        last_request_line_ = request.substr(0, request.find("\r\n"));
        status = status_;
        body = body_;
      }
      const bool head = request.starts_with("HEAD ");
      std::string reply = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/xml\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + (head ? "" : body);
      ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  int status_ = 200;
  std::string body_;
  std::string last_request_line_;
};

}  // namespace mcpd::test
