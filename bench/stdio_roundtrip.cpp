// stdio benchmark driver for mcpd.
//
//   stdio_roundtrip MCPD_BIN [--cold-runs N] [--calls N] [--max-seconds S] [--message TEXT]
//                            [--server-cpu CPU] [--http-cold-runs N] [--config FILE]
//
// Spawns `MCPD_BIN serve --stdio --enable-pack conformance --log-level warning` and measures:
//   cold start  time from fork/exec to the answered `initialize` response, over --cold-runs
//               fresh processes (the request is written into the pipe right after fork, so
//               the figure includes exec, dynamic linking, startup and the first answer);
//   idle RSS    VmRSS of the server from /proc/PID/status after initialize +
//               notifications/initialized and a short pause;
//   HTTP cold start  (--http-cold-runs, default 10; 0 skips) time from fork/exec of
//               `serve --http 127.0.0.1:PORT --threads 1` to the answered HTTP `initialize`
//               (the driver retries connect() every 100 us until the listener is up);
//   round trips --calls sequential `tools/call echo` requests on one process (each waits for
//               its answer before the next is written), capped by --max-seconds; 0 skips them
//               and the idle RSS (bench/cold_start/run.sh measures only cold starts).
// --config passes a configuration file to every server started (e.g. `[audit] enabled = false`).
// The JSON has each cold start's figures too (*_samples_ms), for runs spread over several calls.
// --server-cpu pins the spawned server to one CPU (the driver itself can be pinned with taskset).
// Prints one JSON object on stdout. Every loop is bounded in count and time; each read
// has a deadline, so a hung server fails the run instead of hanging it.
// Plain C++20 + POSIX; nothing of mcpd is linked.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0, Clock::time_point t1) {
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

// The environment minus the variables that would reconfigure mcpd (MCP_*, API_TOKEN), but for
// MCP_DATA_DIR: bench/run.sh gives each run a data folder of its own.
std::vector<char*> clean_env() {
  std::vector<char*> env;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "MCP_DATA_DIR=", 13) == 0) {
      env.push_back(*e);
      continue;
    }
    if (std::strncmp(*e, "MCP_", 4) == 0 || std::strncmp(*e, "API_TOKEN=", 10) == 0) continue;
    env.push_back(*e);
  }
  env.push_back(nullptr);
  return env;
}

// Sets the affinity of the calling process (used in the child before exec).
void pin_to(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  ::sched_setaffinity(0, sizeof set, &set);
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("cannot find a free port");
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

// One HTTP cold start: fork/exec `serve --http`, connect (retrying), POST initialize, read the
// answer. Returns milliseconds from fork to the complete answer; the server is then stopped.
double http_cold_start(const std::string& bin, std::vector<char*>& env, int cpu, const std::string& config) {
  const int port = free_port();
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  auto t0 = Clock::now();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    pin_to(cpu);
    int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) { ::dup2(devnull, 0); ::dup2(devnull, 1); ::dup2(devnull, 2); }
    std::vector<const char*> argv = {bin.c_str(), "serve", "--http", listen.c_str(), "--enable-pack", "conformance", "--threads", "1",
                                     "--log-level", "warning"};
    if (!config.empty()) { argv.push_back("--config"); argv.push_back(config.c_str()); }
    argv.push_back(nullptr);
    ::execve(bin.c_str(), const_cast<char* const*>(argv.data()), env.data());
    ::_exit(127);
  }
  auto reap = [&] {
    ::kill(pid, SIGTERM);
    auto deadline = Clock::now() + std::chrono::seconds(3);
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) { ::kill(pid, SIGKILL); ::waitpid(pid, &status, 0); break; }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  };
  const auto deadline = t0 + std::chrono::seconds(5);
  int fd = -1;
  try {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (;;) {
      fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) throw std::runtime_error("socket failed");
      if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) break;
      ::close(fd);
      fd = -1;
      if (Clock::now() > deadline) throw std::runtime_error("mcpd did not listen on " + listen + " within 5 s");
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) throw std::runtime_error("mcpd exited before listening");
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const std::string body =
        R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},)"
        R"("clientInfo":{"name":"mcpd-bench","version":"1.0.0"}}})";
    const std::string req = "POST /mcp HTTP/1.1\r\nHost: " + listen +
                            "\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
                            "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
      throw std::runtime_error("send failed");
    std::string in;
    char chunk[8192];
    for (;;) {
      auto he = in.find("\r\n\r\n");
      if (he != std::string::npos) {
        // Content-Length (the answer to initialize is a JSON body, not a stream)
        std::string head = in.substr(0, he);
        for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto cl = head.find("content-length:");
        if (cl == std::string::npos) throw std::runtime_error("initialize answer without Content-Length");
        std::size_t need = he + 4 + std::strtoul(head.c_str() + cl + 15, nullptr, 10);
        if (in.size() >= need) {
          if (in.compare(0, 12, "HTTP/1.1 200") != 0 || head.find("mcp-session-id:") == std::string::npos)
            throw std::runtime_error("bad HTTP initialize answer: " + in.substr(0, 200));
          break;
        }
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) throw std::runtime_error("timed out waiting for the HTTP initialize answer");
      pollfd pfd{fd, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left)) <= 0) continue;
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) throw std::runtime_error("connection closed before the initialize answer");
      in.append(chunk, static_cast<std::size_t>(n));
    }
    double ms = ms_since(t0, Clock::now());
    ::close(fd);
    reap();
    return ms;
  } catch (...) {
    if (fd >= 0) ::close(fd);
    reap();
    throw;
  }
}

class Server {
 public:
  Server(const std::string& bin, std::vector<char*>& env, int cpu, const std::string& config) {
    int in_pipe[2], out_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    start_ = Clock::now();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      pin_to(cpu);
      ::dup2(in_pipe[0], 0);
      ::dup2(out_pipe[1], 1);
      int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) ::dup2(devnull, 2);
      std::vector<const char*> argv = {bin.c_str(), "serve", "--stdio", "--enable-pack", "conformance", "--log-level", "warning"};
      if (!config.empty()) { argv.push_back("--config"); argv.push_back(config.c_str()); }
      argv.push_back(nullptr);
      ::execve(bin.c_str(), const_cast<char* const*>(argv.data()), env.data());
      ::_exit(127);
    }
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    to_ = in_pipe[1];
    from_ = out_pipe[0];
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server() { stop(); }

  Clock::time_point started() const { return start_; }
  pid_t pid() const { return pid_; }

  void write_all(const std::string& s) {
    const char* p = s.data();
    std::size_t left = s.size();
    while (left > 0) {
      ssize_t n = ::write(to_, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error("write to mcpd failed (server gone?)");
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }

  // Next line from the server's stdout, or throws once the deadline passes.
  std::string read_line(Clock::time_point deadline) {
    for (;;) {
      auto nl = buf_.find('\n', pos_);
      if (nl != std::string::npos) {
        std::string line = buf_.substr(pos_, nl - pos_);
        pos_ = nl + 1;
        if (pos_ > 65536) { buf_.erase(0, pos_); pos_ = 0; }
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) throw std::runtime_error("timed out waiting for mcpd's answer");
      pollfd pfd{from_, POLLIN, 0};
      int r = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 1000)));
      if (r < 0 && errno != EINTR) throw std::runtime_error("poll failed");
      if (r <= 0) continue;
      char chunk[65536];
      ssize_t n = ::read(from_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error("mcpd closed stdout");
      buf_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  // Closes stdin (mcpd exits on EOF); SIGKILL if it is still there after 2 s.
  void stop() {
    if (pid_ <= 0) return;
    if (to_ >= 0) { ::close(to_); to_ = -1; }
    auto deadline = Clock::now() + std::chrono::seconds(2);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (from_ >= 0) { ::close(from_); from_ = -1; }
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::string buf_;
  std::size_t pos_ = 0;
  Clock::time_point start_;
};

const std::string kInitialize =
    R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},)"
    R"("clientInfo":{"name":"mcpd-bench","version":"1.0.0"}}})"
    "\n";
const std::string kInitialized = R"({"jsonrpc":"2.0","method":"notifications/initialized"})" "\n";

bool is_result_for(const std::string& line, const std::string& id_field) {
  return line.find(id_field) != std::string::npos && line.find("\"result\"") != std::string::npos &&
         line.find("\"isError\":true") == std::string::npos;
}

long status_kb(pid_t pid, const char* key) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  std::size_t klen = std::strlen(key);
  while (std::getline(f, line))
    if (line.compare(0, klen, key) == 0 && line.size() > klen && line[klen] == ':') return std::atol(line.c_str() + klen + 1);
  return -1;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') { out.push_back('\\'); out.push_back(c); }
    else if (static_cast<unsigned char>(c) < 0x20) { char b[8]; std::snprintf(b, sizeof b, "\\u%04x", c); out += b; }
    else out.push_back(c);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MCPD_BIN [--cold-runs N] [--calls N] [--max-seconds S] [--message TEXT] [--server-cpu CPU]\n"
                 "       [--http-cold-runs N] [--config FILE]\n",
                 argv[0]);
    return 2;
  }
  std::string bin = argv[1];
  int cold_runs = 20;
  long calls = 200000;
  double max_seconds = 20;
  std::string message = "hello";
  int server_cpu = -1;
  int http_cold_runs = 10;
  std::string config;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--cold-runs") cold_runs = std::max(1, std::atoi(argv[i + 1]));
    else if (k == "--calls") calls = std::max(0L, std::atol(argv[i + 1]));
    else if (k == "--max-seconds") max_seconds = std::max(0.1, std::atof(argv[i + 1]));
    else if (k == "--message") message = argv[i + 1];
    else if (k == "--server-cpu") server_cpu = std::atoi(argv[i + 1]);
    else if (k == "--http-cold-runs") http_cold_runs = std::max(0, std::atoi(argv[i + 1]));
    else if (k == "--config") config = argv[i + 1];
    else { std::fprintf(stderr, "unknown option %s\n", k.c_str()); return 2; }
  }
  if (::access(bin.c_str(), X_OK) != 0) { std::fprintf(stderr, "not executable: %s\n", bin.c_str()); return 2; }
  ::signal(SIGPIPE, SIG_IGN);
  auto env = clean_env();
  const auto per_read = std::chrono::seconds(5);

  try {
    // (a) cold start
    std::vector<double> cold;
    for (int r = 0; r < cold_runs; ++r) {
      Server s(bin, env, server_cpu, config);
      s.write_all(kInitialize);
      std::string line = s.read_line(Clock::now() + per_read);
      auto t1 = Clock::now();
      if (!is_result_for(line, "\"id\":0")) throw std::runtime_error("bad initialize answer: " + line);
      cold.push_back(ms_since(s.started(), t1));
    }

    std::vector<double> http_cold;
    for (int r = 0; r < http_cold_runs; ++r) http_cold.push_back(http_cold_start(bin, env, server_cpu, config));
    auto samples = [](const std::vector<double>& v) {
      std::string out = "[";
      for (std::size_t i = 0; i < v.size(); ++i) {
        char b[32];
        std::snprintf(b, sizeof b, "%s%.3f", i ? "," : "", v[i]);
        out += b;
      }
      return out + "]";
    };
    if (calls == 0) {
      std::printf("{\"cold_start_ms\":{\"runs\":%d,\"median\":%.3f,\"p90\":%.3f},\"cold_start_samples_ms\":%s,"
                  "\"http_cold_start_ms\":{\"runs\":%d,\"median\":%.3f,\"p90\":%.3f},\"http_cold_start_samples_ms\":%s}\n",
                  cold_runs, percentile(cold, 50), percentile(cold, 90), samples(cold).c_str(), http_cold_runs,
                  percentile(http_cold, 50), percentile(http_cold, 90), samples(http_cold).c_str());
      return 0;
    }

    // (b) idle RSS and (c) sequential round trips on one process
    Server s(bin, env, server_cpu, config);
    s.write_all(kInitialize);
    std::string init_line = s.read_line(Clock::now() + per_read);
    if (!is_result_for(init_line, "\"id\":0")) throw std::runtime_error("bad initialize answer: " + init_line);
    s.write_all(kInitialized);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    long idle_rss = status_kb(s.pid(), "VmRSS");

    const std::string prefix = R"({"jsonrpc":"2.0","id":)";
    const std::string suffix =
        R"(,"method":"tools/call","params":{"name":"echo","arguments":{"message":")" + json_escape(message) + "\"}}}\n";
    const std::string expect_text = "\"text\":\"" + json_escape(message) + "\"";
    std::vector<double> lat;
    lat.reserve(static_cast<std::size_t>(std::min(calls, 5000000L)));
    long done = 0, failed = 0;
    std::string req, id_field;
    auto t0 = Clock::now();
    auto cap = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(max_seconds));
    Clock::time_point now = t0;
    for (long i = 1; i <= calls && now < cap; ++i) {
      std::string id = std::to_string(i);
      req.assign(prefix).append(id).append(suffix);
      id_field.assign("\"id\":").append(id).append(",");
      auto a = Clock::now();
      s.write_all(req);
      std::string line = s.read_line(a + per_read);
      now = Clock::now();
      // The answer's id is followed by ',' (id then result) or '}' (id last); accept either.
      if ((!is_result_for(line, id_field) && !is_result_for(line, "\"id\":" + id + "}")) ||
          line.find(expect_text) == std::string::npos) {
        if (++failed == 1) std::fprintf(stderr, "first failed answer: %s\n", line.c_str());
      }
      lat.push_back(ms_since(a, now));
      ++done;
    }
    double elapsed = std::chrono::duration<double>(now - t0).count();
    long loaded_rss = status_kb(s.pid(), "VmRSS");
    long hwm = status_kb(s.pid(), "VmHWM");
    s.stop();

    std::printf(
        "{\"cold_start_ms\":{\"runs\":%d,\"median\":%.3f,\"p90\":%.3f,\"min\":%.3f,\"max\":%.3f},"
        "\"http_cold_start_ms\":{\"runs\":%d,\"median\":%.3f,\"p90\":%.3f,\"min\":%.3f,\"max\":%.3f},"
        "\"cold_start_samples_ms\":%s,\"http_cold_start_samples_ms\":%s,"
        "\"idle_rss_kb\":%ld,"
        "\"roundtrips\":{\"requested\":%ld,\"completed\":%ld,\"failed\":%ld,\"seconds\":%.3f,\"per_second\":%.1f,"
        "\"latency_us\":{\"mean\":%.2f,\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,\"max\":%.2f}},"
        "\"rss_after_calls_kb\":%ld,\"vmhwm_kb\":%ld}\n",
        cold_runs, percentile(cold, 50), percentile(cold, 90), percentile(cold, 0), percentile(cold, 100),
        http_cold_runs, percentile(http_cold, 50), percentile(http_cold, 90), percentile(http_cold, 0), percentile(http_cold, 100),
        samples(cold).c_str(), samples(http_cold).c_str(), idle_rss, calls,
        done, failed, elapsed, elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0, done > 0 ? elapsed * 1e6 / static_cast<double>(done) : 0.0,
        percentile(lat, 50) * 1000,
        percentile(lat, 90) * 1000, percentile(lat, 99) * 1000, percentile(lat, 100) * 1000, loaded_rss, hwm);
    return failed == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stdio_roundtrip: %s\n", e.what());
    return 1;
  }
}
