# cmake -P script behind the consumer_package test. It installs a finished pulse build into a
# scratch prefix, then builds and runs tests/consumer/main.cpp against it twice: through
# find_package(pulse) and through pkg-config. A header, export, config file or pulse.pc that
# works inside the build tree but not once installed fails here, not on a user's machine.
#
# Inputs (-D): BUILD_DIR (the pulse build), SOURCE_DIR (the pulse sources), WORK_DIR (scratch,
# wiped first), CXX (the compiler pulse was built with), BUILD_TYPE, GENERATOR.

foreach(var BUILD_DIR SOURCE_DIR WORK_DIR CXX BUILD_TYPE GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "consumer test: -D${var}=... is required")
  endif()
endforeach()

# Runs a command; on failure stops with its merged output. Leaves stdout+stderr in step_output.
function(step name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    list(JOIN ARGN " " command)
    message(FATAL_ERROR "consumer test: ${name} failed (${rc}):\n${command}\n${out}")
  endif()
  message(STATUS "consumer test: ${name}: ok")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

set(prefix "${WORK_DIR}/prefix")
set(consumer_src "${SOURCE_DIR}/tests/consumer")
# A prefix left by an earlier run could supply a file the install no longer ships.
file(REMOVE_RECURSE "${WORK_DIR}")

step("install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")

# 1. CMake package.
step("configure with find_package" "${CMAKE_COMMAND}" -S "${consumer_src}" -B "${WORK_DIR}/build"
  -G "${GENERATOR}"
  "-DCMAKE_CXX_COMPILER=${CXX}"
  "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}"
  "-DCMAKE_PREFIX_PATH=${prefix}")
step("build with find_package" "${CMAKE_COMMAND}" --build "${WORK_DIR}/build")
step("run find_package consumer" "${WORK_DIR}/build/pulse_consumer")
message(STATUS "${step_output}")

# 2. pkg-config. pulse.pc lives under whatever CMAKE_INSTALL_LIBDIR was, so look for it.
file(GLOB_RECURSE pc_files "${prefix}/*/pulse.pc")
list(LENGTH pc_files pc_count)
if(NOT pc_count EQUAL 1)
  message(FATAL_ERROR "consumer test: expected one installed pulse.pc under ${prefix}, found: ${pc_files}")
endif()
cmake_path(GET pc_files PARENT_PATH pc_dir)
find_program(PKG_CONFIG_EXECUTABLE pkg-config REQUIRED)
# Prepended, not replaced: liburing, hwloc and fmt are still found where they normally are.
set(ENV{PKG_CONFIG_PATH} "${pc_dir}:$ENV{PKG_CONFIG_PATH}")
step("pkg-config --cflags --libs pulse" "${PKG_CONFIG_EXECUTABLE}" --cflags --libs pulse)
separate_arguments(pc_flags UNIX_COMMAND "${step_output}")
step("compile with pkg-config" "${CXX}" -std=c++20 "${consumer_src}/main.cpp" ${pc_flags}
  -o "${WORK_DIR}/pkgconfig_consumer")
step("run pkg-config consumer" "${WORK_DIR}/pkgconfig_consumer")
message(STATUS "${step_output}")
