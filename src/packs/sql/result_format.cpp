// Result formatting for the sql pack's tools.
#include "packs/sql/result_format.hpp"

#include <algorithm>
#include <map>

namespace mcpd::packs::sql {

namespace {

constexpr std::int64_t kMaxSafeInteger = std::int64_t{1} << 53;
constexpr std::size_t kMaxCellWidth = 60;

// Counts UTF-8 code points, so that accented text lines up like ASCII does.
std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// Cuts at a code point boundary and marks the cut.
std::string clip(std::string s) {
  for (auto& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (display_width(s) <= kMaxCellWidth) return s;
  std::size_t points = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && ++points > kMaxCellWidth - 1) break;
  }
  return s.substr(0, i) + "\xE2\x80\xA6";  // …
}

std::string cell(const json::value& v) {
  if (v.is_null()) return "NULL";
  if (v.is_string()) return clip(std::string(v.get_string()));
  return clip(json::serialize(v));
}

}  // namespace

json::value integer_json(std::int64_t n) {
  if (n > kMaxSafeInteger || n < -kMaxSafeInteger) return json::string(std::to_string(n));
  return n;
}

void make_names_unique(std::vector<Column>& columns) {
  std::map<std::string, int> seen;
  for (const auto& c : columns) seen[c.name] = 0;
  std::map<std::string, int> used;
  for (auto& c : columns) {
    if (++used[c.name] == 1) continue;
    // The first free "<name>_<n>", so that a real column named "id_2" is never shadowed.
    for (int n = used[c.name];; ++n) {
      std::string candidate = c.name + "_" + std::to_string(n);
      if (!seen.count(candidate)) {
        seen[candidate] = 0;
        c.name = std::move(candidate);
        break;
      }
    }
  }
}

json::object result_json(const std::string& source, const QueryResult& result) {
  json::array columns;
  for (const auto& c : result.columns) columns.push_back(json::object{{"name", c.name}, {"type", c.type}});
  json::object o{{"source", source},
                 {"columns", std::move(columns)},
                 {"rows", result.rows},
                 {"row_count", result.rows.size()},
                 {"truncated", result.truncated}};
  if (result.rows_affected) o["rows_affected"] = *result.rows_affected;
  if (!result.command.empty()) o["command"] = result.command;
  return o;
}

std::string result_text(const std::string& source, const QueryResult& result, std::size_t max_rows) {
  std::string out;
  if (!result.columns.empty()) {
    std::vector<std::vector<std::string>> cells;
    std::vector<std::size_t> width;
    for (const auto& c : result.columns) width.push_back(display_width(clip(c.name)));
    for (const auto& row : result.rows) {
      std::vector<std::string> line;
      const auto& o = row.as_object();
      for (std::size_t i = 0; i < result.columns.size(); ++i) {
        auto v = o.if_contains(result.columns[i].name);
        line.push_back(v ? cell(*v) : "");
        width[i] = std::max(width[i], display_width(line.back()));
      }
      cells.push_back(std::move(line));
    }
    auto emit = [&](const std::vector<std::string>& line) {
      for (std::size_t i = 0; i < line.size(); ++i) {
        if (i) out += " | ";
        out += line[i];
        if (i + 1 < line.size()) out.append(width[i] - display_width(line[i]), ' ');
      }
      out += '\n';
    };
    std::vector<std::string> header;
    for (const auto& c : result.columns) header.push_back(clip(c.name));
    emit(header);
    for (std::size_t i = 0; i < width.size(); ++i) {
      if (i) out += "-+-";
      out.append(width[i], '-');
    }
    out += '\n';
    for (const auto& line : cells) emit(line);
  }
  const std::size_t n = result.rows.size();
  // Appended piece by piece: GCC 12 warns (-Wrestrict, wrongly) about "(" + std::to_string(n).
  out += '(';
  out += std::to_string(n);
  out += n == 1 ? " row" : " rows";
  if (result.truncated_by_size) {
    out += ", truncated at ";
    out += std::to_string(kMaxResultBytes >> 20);
    out += " MiB of values: select fewer or narrower columns";
  } else if (result.truncated) {
    out += ", truncated at max_rows=";
    out += std::to_string(max_rows);
  }
  if (result.rows_affected) {
    out += ", ";
    out += std::to_string(*result.rows_affected);
    out += " affected";
  }
  out += " from ";
  out += source;
  out += ')';
  return out;
}

}  // namespace mcpd::packs::sql
