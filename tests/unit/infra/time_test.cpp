// ISO 8601 time stamps: both forms, milliseconds truncated (never rounded up into the next second),
// the time_point overload, dates far from 1970, and HTTP dates converted or left alone.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>

#include "infra/time.hpp"

using namespace mcpd::infra;

namespace {

constexpr std::time_t kMay1st2024Noon = 1714564800;  // 2024-05-01T12:00:00Z

TEST(Time, Iso8601WithMilliseconds) {
  EXPECT_EQ(iso8601_utc(kMay1st2024Noon), "2024-05-01T12:00:00.000Z");
  EXPECT_EQ(iso8601_utc(kMay1st2024Noon, 123456789), "2024-05-01T12:00:00.123Z");
  EXPECT_EQ(iso8601_utc(kMay1st2024Noon, 999999999), "2024-05-01T12:00:00.999Z");  // truncated, not rounded
  EXPECT_EQ(iso8601_utc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_utc(253402300799), "9999-12-31T23:59:59.000Z");
  EXPECT_EQ(iso8601_utc(951782400), "2000-02-29T00:00:00.000Z");  // a leap day
}

TEST(Time, Iso8601FromATimePoint) {
  const auto when = std::chrono::system_clock::from_time_t(kMay1st2024Noon) + std::chrono::milliseconds(42) +
                    std::chrono::microseconds(999);
  EXPECT_EQ(iso8601_utc(when), "2024-05-01T12:00:00.042Z");
}

TEST(Time, Iso8601InWholeSeconds) {
  EXPECT_EQ(iso8601_utc_seconds(kMay1st2024Noon), "2024-05-01T12:00:00Z");
  EXPECT_EQ(iso8601_utc_seconds(kMay1st2024Noon + 59), "2024-05-01T12:00:59Z");
  EXPECT_EQ(iso8601_utc_seconds(0), "1970-01-01T00:00:00Z");
}

TEST(Time, NowHasTheSecondsForm) {
  const std::string now = now_iso8601();
  EXPECT_TRUE(std::regex_match(now, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"))) << now;
  EXPECT_GE(now, "2024-01-01T00:00:00Z");  // the clock is not at 1970
}

TEST(Time, HttpDatesBecomeIso8601) {
  EXPECT_EQ(http_date_to_iso8601("Wed, 01 May 2024 12:00:00 GMT"), "2024-05-01T12:00:00.000Z");
  EXPECT_EQ(http_date_to_iso8601("Thu, 29 Feb 2024 23:59:59 GMT"), "2024-02-29T23:59:59.000Z");
  // Anything else is returned unchanged, so a caller never loses what the server sent.
  EXPECT_EQ(http_date_to_iso8601("garbage"), "garbage");
  EXPECT_EQ(http_date_to_iso8601(""), "");
  EXPECT_EQ(http_date_to_iso8601("Wed, 01 May 2024 12:00:00 GMT trailing"), "Wed, 01 May 2024 12:00:00 GMT trailing");
  EXPECT_EQ(http_date_to_iso8601("2024-05-01T12:00:00.000Z"), "2024-05-01T12:00:00.000Z");
}

}  // namespace
