// expect_system_error(work, errno, operation): runs `work` and checks that it throws a
// std::system_error carrying `errno` whose message names `operation`, as pulse's I/O errors do.
// Call it from the test's own thread (Catch2 assertions are not thread-safe).
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <system_error>

namespace pulse_test {

template <typename Work>
void expect_system_error(Work&& work, int expected, const std::string& operation) {
  try {
    work();
    FAIL("no exception");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == expected);
    CHECK(std::string(e.what()).find(operation) != std::string::npos);
  }
}

}  // namespace pulse_test
