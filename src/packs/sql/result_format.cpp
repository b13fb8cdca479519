// Result formatting for the sql pack's tools.
#include "packs/sql/result_format.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <string_view>

namespace mcpd::packs::sql {

namespace {

constexpr std::int64_t kMaxSafeInteger = std::int64_t{1} << 53;
constexpr std::size_t kMaxCellWidth = 60;

// Appends `text` as a cell shows it: tabs and line breaks as spaces, and past kMaxCellWidth code
// points cut at a code point boundary and marked "…". Returns its width in code points (counted so
// that accented text lines up like ASCII does). Reads no further than the cut: a cell of a
// megabyte costs what one of 61 characters does.
std::size_t append_clipped(std::string& out, std::string_view text) {
  std::size_t points = 0, cut = text.size();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (++points == kMaxCellWidth) cut = i;  // a cut keeps what comes before this code point
    else if (points > kMaxCellWidth) break;
  }
  const bool clipped = points > kMaxCellWidth;
  const std::size_t start = out.size();
  out.append(text.substr(0, clipped ? cut : text.size()));
  for (std::size_t i = start; i < out.size(); ++i)
    if (out[i] == '\n' || out[i] == '\r' || out[i] == '\t') out[i] = ' ';
  if (!clipped) return points;
  out += "\xE2\x80\xA6";  // …
  return kMaxCellWidth;
}

// Appends a value's cell: NULL, a string as it is, a number in its shortest form (12.5, not JSON's
// 1.25E1), a boolean as JSON writes it, anything else as its JSON; nothing for a missing value.
// Returns its width.
std::size_t append_cell(std::string& out, const json::value* v) {
  if (!v) return 0;
  char digits[32];  // the longest: a double in its shortest form, 24 characters (-2.2250738585072014e-308)
  switch (v->kind()) {
    case json::kind::null:
      out += "NULL";
      return 4;
    case json::kind::bool_:
      out += v->get_bool() ? "true" : "false";
      return v->get_bool() ? 4 : 5;
    case json::kind::int64: {
      auto r = std::to_chars(digits, digits + sizeof digits, v->get_int64());
      out.append(digits, r.ptr);
      return static_cast<std::size_t>(r.ptr - digits);
    }
    case json::kind::uint64: {
      auto r = std::to_chars(digits, digits + sizeof digits, v->get_uint64());
      out.append(digits, r.ptr);
      return static_cast<std::size_t>(r.ptr - digits);
    }
    case json::kind::double_: {
      auto r = std::to_chars(digits, digits + sizeof digits, v->get_double());
      out.append(digits, r.ptr);
      return static_cast<std::size_t>(r.ptr - digits);
    }
    case json::kind::string:
      return append_clipped(out, v->get_string());
    default:  // object, array: as JSON writes them
      return append_clipped(out, json::serialize(*v));
  }
}

// The value of `name` in a row, looked up where the row keeps it when built in column order.
const json::value* value_of(const json::object& row, std::size_t column, std::string_view name) {
  if (column < row.size()) {
    const auto& slot = *(row.begin() + static_cast<std::ptrdiff_t>(column));
    if (slot.key() == name) return &slot.value();
  }
  return row.if_contains(name);
}

}  // namespace

json::value integer_json(std::int64_t n) {
  if (n > kMaxSafeInteger || n < -kMaxSafeInteger) return json::string(std::to_string(n));
  return n;
}

void make_names_unique(std::vector<Column>& columns) {
  // Nearly every result has distinct names: say so without building the maps below.
  bool distinct = true;
  if (columns.size() <= 32) {
    for (std::size_t i = 1; i < columns.size() && distinct; ++i)
      for (std::size_t j = 0; j < i && distinct; ++j) distinct = columns[i].name != columns[j].name;
  } else {
    distinct = false;
  }
  if (distinct) return;
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

json::object result_json(const std::string& source, QueryResult&& result) {
  json::array columns;
  columns.reserve(result.columns.size());
  for (const auto& c : result.columns) columns.push_back(json::object{{"name", c.name}, {"type", c.type}});
  const std::size_t row_count = result.rows.size();
  json::object o{{"source", source},
                 {"columns", std::move(columns)},
                 {"rows", std::move(result.rows)},
                 {"row_count", row_count},
                 {"truncated", result.truncated}};
  if (result.rows_affected) o["rows_affected"] = *result.rows_affected;
  if (!result.command.empty()) o["command"] = result.command;
  return o;
}

json::object result_json(const std::string& source, const QueryResult& result) {
  return result_json(source, QueryResult(result));
}

std::string result_text(const std::string& source, const QueryResult& result, std::size_t max_rows) {
  std::string out;
  if (const std::size_t columns = result.columns.size(); columns > 0) {
    // Every cell is rendered once into one buffer (no string per cell), then laid out.
    struct Cell {
      std::size_t end;    // in `cells`, where it stops (it starts where the previous one stops)
      std::size_t width;  // in code points
    };
    std::string cells;
    std::vector<Cell> index;
    index.reserve((result.rows.size() + 1) * columns);
    std::vector<std::size_t> width(columns, 0);
    for (std::size_t i = 0; i < columns; ++i) {
      const std::size_t w = append_clipped(cells, result.columns[i].name);
      index.push_back({cells.size(), w});
      width[i] = w;
    }
    for (const auto& row : result.rows) {
      const auto& o = row.as_object();
      for (std::size_t i = 0; i < columns; ++i) {
        const std::size_t w = append_cell(cells, value_of(o, i, result.columns[i].name));
        index.push_back({cells.size(), w});
        width[i] = std::max(width[i], w);
      }
    }
    std::size_t line_width = 3 * (columns - 1) + 1;  // separators and the line break
    for (std::size_t w : width) line_width += w;
    out.reserve(line_width * (result.rows.size() + 2) + cells.size() + 64);
    std::size_t begin = 0, k = 0;
    auto emit = [&] {
      for (std::size_t i = 0; i < columns; ++i, ++k) {
        if (i) out += " | ";
        out.append(cells, begin, index[k].end - begin);
        begin = index[k].end;
        if (i + 1 < columns) out.append(width[i] - index[k].width, ' ');
      }
      out += '\n';
    };
    emit();  // the header
    for (std::size_t i = 0; i < columns; ++i) {
      if (i) out += "-+-";
      out.append(width[i], '-');
    }
    out += '\n';
    for (std::size_t r = 0; r < result.rows.size(); ++r) emit();
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
