// Fuzzes the cron parser behind scheduled syncs (src/infra/cron.*): any text either parses or says which
// field is wrong, and a parsed schedule's next run is a whole minute after the given moment that is
// itself a run (asking again from just before it finds it again).
#include <chrono>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "infra/cron.hpp"

using namespace std::chrono;
using mcpd::infra::CronSchedule;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto schedule = CronSchedule::parse(text, error);
  if (!schedule) {
    FUZZ_CHECK(!error.empty(), "a refused expression says why");
    return 0;
  }
  FUZZ_CHECK(schedule->expression() == text, "the schedule keeps its expression");
  std::string again;
  FUZZ_CHECK(CronSchedule::parse(schedule->expression(), again).has_value(), "a schedule's expression parses again");

  // Moments the server meets: the epoch, a leap day's last seconds, a year's end, and a later one.
  const system_clock::time_point moments[] = {
      system_clock::time_point{}, system_clock::from_time_t(1709251170),  // 2024-02-29T23:59:30Z
      system_clock::from_time_t(1735689599),                              // 2024-12-31T23:59:59Z
      system_clock::from_time_t(4102444800 - 61)};                        // 2099-12-31T23:58:59Z
  for (auto after : moments) {
    auto next = schedule->next_after(after);
    if (!next) continue;  // e.g. "0 0 31 2 *": no February 31st within five years
    FUZZ_CHECK(*next > after, "the next run is after the moment asked about");
    FUZZ_CHECK(*next - after <= hours(24 * 366 * 5), "the next run is found within five years");
    FUZZ_CHECK(time_point_cast<minutes>(*next) == *next, "runs are on whole minutes");
    FUZZ_CHECK(schedule->next_after(*next - seconds(1)) == next, "a run is found again from just before it");
    auto following = schedule->next_after(*next);
    if (following) FUZZ_CHECK(*following > *next, "runs only move forward");
  }
  return 0;
}
