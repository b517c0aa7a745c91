# The private dependencies of the pulse library. The installed pulseConfig.cmake includes this
# same file, so a consumer finds exactly what the build found.
# liburing and hwloc ship pkg-config files only (no CMake package), hence pkg_check_modules.

include(CMakeFindDependencyMacro)

# In pulse's own build a missing package must stop configuration with CMake's own message;
# in a consumer's find_package(pulse) it must set pulse_FOUND to false, which is find_dependency's job.
macro(pulse_find_dependency)
  if(PULSE_BUILDING_ITSELF)
    find_package(${ARGN} REQUIRED)
  else()
    find_dependency(${ARGN})
  endif()
endmacro()

set(THREADS_PREFER_PTHREAD_FLAG ON)
pulse_find_dependency(Threads)
pulse_find_dependency(fmt)
pulse_find_dependency(PkgConfig)
if(NOT TARGET PkgConfig::PULSE_LIBURING)
  pkg_check_modules(PULSE_LIBURING REQUIRED IMPORTED_TARGET liburing)
endif()
if(NOT TARGET PkgConfig::PULSE_HWLOC)
  pkg_check_modules(PULSE_HWLOC REQUIRED IMPORTED_TARGET hwloc)
endif()
