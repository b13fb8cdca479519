// Time stamps in the forms mcpd writes: ISO 8601 in UTC, with milliseconds ("2024-05-01T12:00:00.000Z",
// logs, object stores) or whole seconds ("2024-05-01T12:00:00Z", REST answers, indexes, jobs).
#pragma once
#include <chrono>
#include <ctime>
#include <string>

namespace mcpd::infra {

// "2024-05-01T12:00:00.000Z": `nanoseconds` within the second, shown as milliseconds (truncated).
std::string iso8601_utc(std::time_t seconds, long nanoseconds = 0);
std::string iso8601_utc(std::chrono::system_clock::time_point when);
// "2024-05-01T12:00:00Z".
std::string iso8601_utc_seconds(std::time_t seconds);
// The current time as iso8601_utc_seconds writes it.
std::string now_iso8601();
// An HTTP date (RFC 9110 IMF-fixdate, "Wed, 01 May 2024 12:00:00 GMT") as iso8601_utc writes it;
// anything else is returned unchanged.
std::string http_date_to_iso8601(const std::string& http_date);

}  // namespace mcpd::infra
