# Runs before anything else is configured.

# The install-interface include directory and install-rules.cmake both use the
# CMAKE_INSTALL_* variables, and the pulse target is defined before install-rules.cmake runs.
include(GNUInstallDirs)

if(CMAKE_SOURCE_DIR STREQUAL CMAKE_BINARY_DIR)
  message(FATAL_ERROR "pulse: in-source builds are not supported; use cmake -S . -B build (or a preset)")
endif()

# A plain `cmake -S . -B build` gets an optimised build: a coroutine runtime at -O0 is not what
# anyone measuring it wants, and it is the configuration every benchmark figure assumes.
get_property(pulse_multi_config GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)
if(NOT pulse_multi_config AND NOT CMAKE_BUILD_TYPE AND CMAKE_SOURCE_DIR STREQUAL PROJECT_SOURCE_DIR)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()
