// What every fuzz target uses to state a property: a broken one aborts, which libFuzzer records as a
// crash with the input that broke it (kept under tests/fuzz/regressions/<target>/ once fixed).
#pragma once
#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, what)                                                              \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "fuzz property broken at %s:%d: %s\n  (%s)\n", __FILE__, __LINE__, \
                   what, #cond);                                                            \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)
