// A throwaway PostgreSQL 15 for the sql pack's unit tests: its own temp folder, reachable only
// through a Unix socket in that folder (no TCP port to collide on), stopped and removed at the end.
// As root, the server runs as the `postgres` user (setpriv), as tests/integration/lib/postgres.mjs does.
#pragma once
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "packs/sql/pg_connection.hpp"

namespace mcpd::packs::sql::testing {

class PgTestServer {
 public:
  // Throws std::runtime_error, with what to install, when PostgreSQL 15 is missing.
  PgTestServer() {
    const char* env = std::getenv("MCPD_PG_BIN");
    bin_ = env && *env ? env : "/usr/lib/postgresql/15/bin";
    if (!std::filesystem::exists(bin_ / "initdb"))
      throw std::runtime_error("PostgreSQL 15 is not installed: " + (bin_ / "initdb").string() +
                               " is missing. Install the Debian package postgresql-15 (scripts/install-deps.sh "
                               "--test-tools does), or set MCPD_PG_BIN to its bin folder.");
    std::string templ = (std::filesystem::temp_directory_path() / "mcpd-pgunit-XXXXXX").string();
    if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = templ;
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      if (!pw) throw std::runtime_error("tests run as root, and PostgreSQL must not: the user 'postgres' is missing");
      if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown failed");
      as_postgres_ = true;
    }
    try {
      run({(bin_ / "initdb").string(), "-D", (dir_ / "data").string(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
           "--locale=C", "--no-sync"});
      run({(bin_ / "pg_ctl").string(), "-D", (dir_ / "data").string(), "-w", "-t", "60", "-l",
           (dir_ / "log").string(), "-o", "-c listen_addresses='' -k " + dir_.string() + " -c fsync=off", "start"});
    } catch (...) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
      throw;
    }
    running_ = true;
  }
  ~PgTestServer() {
    if (running_) {
      try {
        run({(bin_ / "pg_ctl").string(), "-D", (dir_ / "data").string(), "-w", "-t", "60", "-m", "immediate", "stop"});
      } catch (...) {  // removed below anyway
      }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  PgTestServer(const PgTestServer&) = delete;
  PgTestServer& operator=(const PgTestServer&) = delete;

  // What PostgresSource sends (read-only by default, UTF-8), as the superuser over the socket.
  ConnParams params() const {
    return {{"host", dir_.string()},
            {"user", "postgres"},
            {"dbname", "postgres"},
            {"options", "-c default_transaction_read_only=on -c statement_timeout=5000"},
            {"client_encoding", "UTF8"}};
  }
  std::unique_ptr<PgConnection> connect() const {
    auto c = PgConnection::open(params(), Clock::now() + std::chrono::seconds(10), 0);
    if (!c) throw std::runtime_error("cannot connect to the test server: " + c.error().message);
    return std::move(c).value();
  }

 private:
  // Runs a program to its end (as postgres when we are root); throws unless it exits with 0.
  void run(std::vector<std::string> argv) const {
    if (as_postgres_)
      argv.insert(argv.begin(), {"setpriv", "--reuid", "postgres", "--regid", "postgres", "--init-groups", "--"});
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      ::setenv("LC_ALL", "C", 1);
      ::setenv("HOME", dir_.c_str(), 1);
      if (::chdir(dir_.c_str()) != 0) ::_exit(126);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    // pg_ctl bounds its own waits (-t 60); this bounds everything else.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    int status = 0;
    for (;;) {
      const pid_t done = ::waitpid(pid, &status, WNOHANG);
      if (done == pid) break;
      if (done < 0 && errno != EINTR) throw std::runtime_error("waitpid failed");
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        throw std::runtime_error(argv[as_postgres_ ? 7 : 0] + " did not finish within 120 s");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw std::runtime_error(argv[as_postgres_ ? 7 : 0] + " failed; see " + (dir_ / "log").string());
  }

  std::filesystem::path bin_;
  std::filesystem::path dir_;
  bool as_postgres_ = false;
  bool running_ = false;
};

}  // namespace mcpd::packs::sql::testing
