// Catch2's main, compiled here rather than linked from Debian's prebuilt Catch2WithMain so that it
// carries the same sanitizer flags as the tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
