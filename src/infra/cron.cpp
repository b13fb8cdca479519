// Cron parsing and next-run computation.
#include "infra/cron.hpp"

#include <ctime>
#include <random>
#include <sstream>
#include <vector>

namespace mcpd::infra {

namespace {

bool parse_number(std::string_view s, int& out) {
  if (s.empty() || s.size() > 4) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

// Parses one field ("*", "*/5", "1-5", "1,2,10-20/2") into bits [lo, hi].
template <std::size_t N>
bool parse_field(std::string_view text, int lo, int hi, std::bitset<N>& bits, std::string& problem) {
  bits.reset();
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    std::string_view part = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    int step = 1;
    if (auto slash = part.find('/'); slash != std::string_view::npos) {
      if (!parse_number(part.substr(slash + 1), step) || step <= 0) {
        problem = "the step in '" + std::string(part) + "' must be a positive number";
        return false;
      }
      part = part.substr(0, slash);
    }
    int from = lo, to = hi;
    if (part != "*") {
      auto dash = part.find('-');
      if (dash == std::string_view::npos) {
        if (!parse_number(part, from)) {
          problem = "'" + std::string(part) + "' is not a number";
          return false;
        }
        to = step > 1 ? hi : from;
      } else if (!parse_number(part.substr(0, dash), from) || !parse_number(part.substr(dash + 1), to)) {
        problem = "'" + std::string(part) + "' is not a range";
        return false;
      }
    }
    if (from < lo || to > hi || from > to) {
      problem = "'" + std::string(text) + "' is outside " + std::to_string(lo) + "-" + std::to_string(hi);
      return false;
    }
    for (int v = from; v <= to; v += step) bits.set(static_cast<std::size_t>(v));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return true;
}

}  // namespace

std::optional<CronSchedule> CronSchedule::parse(std::string_view expression, std::string& error) {
  std::vector<std::string> fields;
  std::istringstream in{std::string(expression)};
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() != 5) {
    error = "a cron expression has 5 fields (minute hour day-of-month month day-of-week), got " + std::to_string(fields.size());
    return std::nullopt;
  }
  CronSchedule s;
  s.expression_ = std::string(expression);
  std::string problem;
  std::bitset<8> weekdays;
  static const char* kNames[] = {"minute", "hour", "day-of-month", "month", "day-of-week"};
  auto fail = [&](int field) {
    error = std::string(kNames[field]) + " field: " + problem;
    return std::nullopt;
  };
  if (!parse_field(fields[0], 0, 59, s.minutes_, problem)) return fail(0);
  if (!parse_field(fields[1], 0, 23, s.hours_, problem)) return fail(1);
  if (!parse_field(fields[2], 1, 31, s.days_, problem)) return fail(2);
  if (!parse_field(fields[3], 1, 12, s.months_, problem)) return fail(3);
  if (!parse_field(fields[4], 0, 7, weekdays, problem)) return fail(4);
  for (int d = 0; d < 7; ++d) s.weekdays_[static_cast<std::size_t>(d)] = weekdays[static_cast<std::size_t>(d)];
  if (weekdays[7]) s.weekdays_.set(0);
  s.any_day_ = fields[2] == "*";
  s.any_weekday_ = fields[4] == "*";
  return s;
}

std::optional<std::chrono::system_clock::time_point> CronSchedule::next_after(std::chrono::system_clock::time_point after) const {
  using namespace std::chrono;
  auto t = time_point_cast<minutes>(after) + minutes(1);
  auto limit = after + hours(24 * 366 * 5);
  while (t < limit) {
    std::time_t tt = system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    if (!months_[static_cast<std::size_t>(tm.tm_mon + 1)]) {
      // Jump to the first day of next month.
      tm.tm_mon += 1;
      tm.tm_mday = 1;
      tm.tm_hour = 0;
      tm.tm_min = 0;
      t = time_point_cast<minutes>(system_clock::from_time_t(timegm(&tm)));
      continue;
    }
    bool dom = days_[static_cast<std::size_t>(tm.tm_mday)];
    bool dow = weekdays_[static_cast<std::size_t>(tm.tm_wday)];
    // Standard cron: when both day fields are restricted, either one matching is enough.
    bool day_ok = any_day_ && any_weekday_ ? true : any_day_ ? dow : any_weekday_ ? dom : (dom || dow);
    if (!day_ok) {
      tm.tm_mday += 1;
      tm.tm_hour = 0;
      tm.tm_min = 0;
      t = time_point_cast<minutes>(system_clock::from_time_t(timegm(&tm)));
      continue;
    }
    if (!hours_[static_cast<std::size_t>(tm.tm_hour)]) {
      tm.tm_hour += 1;
      tm.tm_min = 0;
      t = time_point_cast<minutes>(system_clock::from_time_t(timegm(&tm)));
      continue;
    }
    if (!minutes_[static_cast<std::size_t>(tm.tm_min)]) {
      t += minutes(1);
      continue;
    }
    return t;
  }
  return std::nullopt;
}

std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds base, std::chrono::milliseconds cap) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  double ceiling = static_cast<double>(base.count());
  for (int i = 0; i < attempt && ceiling < static_cast<double>(cap.count()); ++i) ceiling *= 2;
  ceiling = std::min(ceiling, static_cast<double>(cap.count()));
  std::uniform_real_distribution<double> dist(0.0, ceiling);
  return std::chrono::milliseconds(static_cast<std::int64_t>(dist(rng)));
}

}  // namespace mcpd::infra
