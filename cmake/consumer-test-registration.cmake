# Defines pulse_add_consumer_test(), called from tests/CMakeLists.txt, which registers the
# consumer_package test (see consumer-test.cmake).
include_guard(GLOBAL)

function(pulse_add_consumer_test)
  # A sanitizer-instrumented static libpulse.a cannot be linked by the uninstrumented consumer.
  if(PULSE_SANITIZE)
    return()
  endif()
  add_test(NAME consumer_package
    COMMAND "${CMAKE_COMMAND}"
      "-DBUILD_DIR=${pulse_BINARY_DIR}"
      "-DSOURCE_DIR=${pulse_SOURCE_DIR}"
      "-DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumer_package"
      "-DCXX=${CMAKE_CXX_COMPILER}"
      "-DBUILD_TYPE=$<CONFIG>"
      "-DGENERATOR=${CMAKE_GENERATOR}"
      -P "${pulse_SOURCE_DIR}/cmake/consumer-test.cmake")
  # Installs and compiles two programs: far slower than a unit test.
  set_tests_properties(consumer_package PROPERTIES TIMEOUT 600)
endfunction()
