# Install rules: headers, the static library, a CMake package (find_package(pulse)) and a
# pkg-config file, so both kinds of consumer get everything needed to link a static pulse.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(pulse_cmake_dir "${CMAKE_INSTALL_LIBDIR}/cmake/pulse")

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/pulse"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
  FILES_MATCHING PATTERN "*.hpp")

install(TARGETS pulse EXPORT pulseTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(EXPORT pulseTargets
  NAMESPACE pulse::
  DESTINATION "${pulse_cmake_dir}")

# pulse is static, so its "private" dependencies reach the consumer's link line; the config
# file runs the very same dependencies.cmake the build used to recreate those targets.
configure_package_config_file(cmake/pulseConfig.cmake.in "${PROJECT_BINARY_DIR}/pulseConfig.cmake"
  INSTALL_DESTINATION "${pulse_cmake_dir}")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/pulseConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion)
install(FILES
    "${PROJECT_BINARY_DIR}/pulseConfig.cmake"
    "${PROJECT_BINARY_DIR}/pulseConfigVersion.cmake"
  DESTINATION "${pulse_cmake_dir}")
install(FILES cmake/dependencies.cmake
  DESTINATION "${pulse_cmake_dir}"
  RENAME pulseDependencies.cmake)

# pulse.pc finds its prefix from its own location (${pcfiledir}) instead of baking in
# CMAKE_INSTALL_PREFIX, because `cmake --install --prefix DIR` picks the prefix after configure.
cmake_path(RELATIVE_PATH CMAKE_INSTALL_PREFIX
  BASE_DIRECTORY "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig"
  OUTPUT_VARIABLE pulse_pc_prefix)
set(pulse_pc_includedir "\${prefix}")
cmake_path(APPEND pulse_pc_includedir "${CMAKE_INSTALL_INCLUDEDIR}")  # an absolute dir replaces ${prefix}
set(pulse_pc_libdir "\${prefix}")
cmake_path(APPEND pulse_pc_libdir "${CMAKE_INSTALL_LIBDIR}")
configure_file(cmake/pulse.pc.in "${PROJECT_BINARY_DIR}/pulse.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/pulse.pc"
  DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")

# The consumer_package test exercises exactly these rules; tests/CMakeLists.txt registers it.
include("${CMAKE_CURRENT_LIST_DIR}/consumer-test-registration.cmake")
