// ISO 8601 time stamps; see time.hpp.
#include "infra/time.hpp"

#include <cstdio>

namespace mcpd::infra {

namespace {

std::tm utc(std::time_t seconds) {
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return tm;
}

}  // namespace

std::string iso8601_utc(std::time_t seconds, long nanoseconds) {
  const std::tm tm = utc(seconds);
  const int millis = static_cast<int>((nanoseconds / 1000000) % 1000);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

std::string iso8601_utc(std::chrono::system_clock::time_point when) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(when);
  const auto nanoseconds = std::chrono::duration_cast<std::chrono::nanoseconds>(when - seconds).count();
  return iso8601_utc(std::chrono::system_clock::to_time_t(seconds), static_cast<long>(nanoseconds));
}

std::string iso8601_utc_seconds(std::time_t seconds) {
  const std::tm tm = utc(seconds);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string now_iso8601() { return iso8601_utc_seconds(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())); }

std::string http_date_to_iso8601(const std::string& http_date) {
  std::tm tm{};
  const char* end = strptime(http_date.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return http_date;
  return iso8601_utc(timegm(&tm));
}

}  // namespace mcpd::infra
