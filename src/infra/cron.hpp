// Five-field cron expressions ("0 */3 * * *": minute hour day-of-month month day-of-week), in UTC.
// Hand-written: no Debian package offers a C++ cron parser.
#pragma once
#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace mcpd::infra {

class CronSchedule {
 public:
  // nullopt with `error` naming the field and the problem.
  static std::optional<CronSchedule> parse(std::string_view expression, std::string& error);

  // The first matching minute strictly after `after` (searches up to ~5 years; nullopt if none).
  std::optional<std::chrono::system_clock::time_point> next_after(std::chrono::system_clock::time_point after) const;
  const std::string& expression() const { return expression_; }

 private:
  std::string expression_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0..6, Sunday = 0 (7 is accepted as Sunday too)
  bool any_day_ = true;      // day-of-month is "*"
  bool any_weekday_ = true;  // day-of-week is "*"
};

// Exponential backoff with full jitter: a random delay in [0, min(cap, base * 2^attempt)].
std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds base, std::chrono::milliseconds cap);

}  // namespace mcpd::infra
