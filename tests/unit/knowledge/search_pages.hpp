// Test helper for search paging: the results met by following next_cursor from the first page, to
// compare with one large page.
#pragma once
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "packs/knowledge/search/search.hpp"

namespace mcpd::test {

// "path:line_start" of each result of a search answer.
inline std::vector<std::string> result_keys(const boost::json::object& answer) {
  std::vector<std::string> out;
  for (const auto& r : answer.at("results").as_array())
    out.push_back(std::string(r.at("path").as_string()) + ":" + std::to_string(r.at("line_start").as_int64()));
  return out;
}

struct Pages {
  std::vector<std::string> results;  // in the order met
  std::vector<std::size_t> sizes;    // of each page
};

// Every page of `args` with `limit`, from the first by next_cursor (at most 500 pages).
inline Pages walk_pages(packs::knowledge::Searcher& s, boost::json::object args, int limit) {
  Pages pages;
  args["limit"] = limit;
  for (int n = 0; n < 500; ++n) {
    auto answer = s.search(args);
    if (!answer) {
      ADD_FAILURE() << (answer.failed() ? answer.error().message : "cancelled");
      return pages;
    }
    auto keys = result_keys(*answer);
    pages.results.insert(pages.results.end(), keys.begin(), keys.end());
    pages.sizes.push_back(keys.size());
    if (!answer->contains("next_cursor")) return pages;
    args["cursor"] = answer->at("next_cursor");
  }
  ADD_FAILURE() << "more than 500 pages for " << boost::json::serialize(args);
  return pages;
}

// Following the cursors with limits 1 to 3 visits the results of one page of 100, in order, and
// every page but the last is full. Returns the large page's results.
inline std::vector<std::string> expect_pages_cover_everything(packs::knowledge::Searcher& s, const boost::json::object& args) {
  boost::json::object large = args;
  large["limit"] = 100;
  auto all = s.search(large);
  if (!all) {
    ADD_FAILURE() << (all.failed() ? all.error().message : "cancelled");
    return {};
  }
  EXPECT_FALSE(all->contains("next_cursor"));
  const auto expected = result_keys(*all);
  for (int limit = 1; limit <= 3; ++limit) {
    auto pages = walk_pages(s, args, limit);
    EXPECT_EQ(pages.results, expected) << "limit " << limit << ", " << boost::json::serialize(args);
    for (std::size_t i = 0; i + 1 < pages.sizes.size(); ++i)
      EXPECT_EQ(pages.sizes[i], static_cast<std::size_t>(limit)) << "page " << i << ", limit " << limit;
  }
  return expected;
}

}  // namespace mcpd::test
