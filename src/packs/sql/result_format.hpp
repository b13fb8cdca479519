// How the sql pack shows results: JSON numbers that survive JavaScript, unique column names, the
// structured content of a result, and the readable table in its text content.
#pragma once
#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "packs/sql/sql_source.hpp"

namespace mcpd::packs::sql {

// A number when JavaScript can hold it exactly (|n| <= 2^53), else its decimal string.
json::value integer_json(std::int64_t n);

// Renames repeated column names ("?column?", "?column?_2") so that every row object keeps every value.
void make_names_unique(std::vector<Column>& columns);

// {source, columns: [{name, type}], rows, row_count, truncated} (+ rows_affected, command for writes).
json::object result_json(const std::string& source, const QueryResult& result);
// The same, taking the rows over instead of copying them (what a tool answer does).
json::object result_json(const std::string& source, QueryResult&& result);

// The rows as an aligned text table, then one line saying how many rows and whether they were cut.
std::string result_text(const std::string& source, const QueryResult& result, std::size_t max_rows);

}  // namespace mcpd::packs::sql
