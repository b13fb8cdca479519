# The conformance pack: the fixtures the official conformance suites call, and echo for the
# benchmarks. No library of its own, so it is linked into mcpd rather than loaded as a plug-in.
mcpd_add_pack(conformance
  SOURCES
    src/packs/conformance/conformance_pack.cpp)
