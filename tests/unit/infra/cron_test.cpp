// Cron schedules and backoff.
#include <gtest/gtest.h>

#include <ctime>

#include "infra/cron.hpp"

using namespace mcpd::infra;
using std::chrono::system_clock;

namespace {
system_clock::time_point at(int y, int mo, int d, int h, int mi) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  return system_clock::from_time_t(timegm(&tm));
}
CronSchedule parse(const char* e) {
  std::string err;
  auto s = CronSchedule::parse(e, err);
  EXPECT_TRUE(s) << err;
  return *s;
}
}  // namespace

TEST(Cron, EveryThreeHoursAsInSeed001) {
  auto s = parse("0 */3 * * *");
  EXPECT_EQ(s.next_after(at(2026, 11, 21, 10, 15)), at(2026, 11, 21, 12, 0));
  EXPECT_EQ(s.next_after(at(2026, 11, 21, 12, 0)), at(2026, 11, 21, 15, 0));  // strictly after
  EXPECT_EQ(s.next_after(at(2026, 12, 31, 22, 30)), at(2027, 1, 1, 0, 0));
}

TEST(Cron, ListsRangesStepsAndWeekdays) {
  EXPECT_EQ(parse("*/15 * * * *").next_after(at(2026, 11, 21, 10, 14)), at(2026, 11, 21, 10, 15));
  EXPECT_EQ(parse("30 2 * * 1").next_after(at(2026, 11, 21, 10, 0)), at(2026, 11, 23, 2, 30));  // Monday
  EXPECT_EQ(parse("0 9 * * 7").next_after(at(2026, 11, 21, 10, 0)), at(2026, 11, 22, 9, 0));   // 7 = Sunday
  EXPECT_EQ(parse("5,10-12 8 1 * *").next_after(at(2026, 11, 21, 0, 0)), at(2026, 12, 1, 8, 5));
  EXPECT_EQ(parse("0 0 29 2 *").next_after(at(2026, 3, 1, 0, 0)), at(2028, 2, 29, 0, 0));
  EXPECT_FALSE(parse("0 0 31 2 *").next_after(at(2026, 1, 1, 0, 0)));  // never
}

TEST(Cron, ErrorsNameTheField) {
  std::string err;
  EXPECT_FALSE(CronSchedule::parse("* * *", err));
  EXPECT_NE(err.find("5 fields"), std::string::npos);
  EXPECT_FALSE(CronSchedule::parse("61 * * * *", err));
  EXPECT_EQ(err.rfind("minute field", 0), 0u);
  EXPECT_FALSE(CronSchedule::parse("0 24 * * *", err));
  EXPECT_EQ(err.rfind("hour field", 0), 0u);
  EXPECT_FALSE(CronSchedule::parse("0 0 * 13 *", err));
  EXPECT_EQ(err.rfind("month field", 0), 0u);
  EXPECT_FALSE(CronSchedule::parse("*/0 * * * *", err));
  EXPECT_FALSE(CronSchedule::parse("a * * * *", err));
}

TEST(Backoff, GrowsWithinTheCap) {
  using std::chrono::milliseconds;
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto d = backoff_delay(attempt, milliseconds(100), milliseconds(5000));
    EXPECT_GE(d.count(), 0);
    EXPECT_LE(d.count(), std::min<long>(5000, 100L << std::min(attempt, 20)));
  }
}
