# Project-wide compile flags. Sanitizers apply to every target in the tree (library, tests,
# examples) so that instrumented and uninstrumented code never mix.

if(PULSE_SANITIZE)
  add_compile_options(-fsanitize=${PULSE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${PULSE_SANITIZE})
endif()
if(PULSE_NATIVE)
  add_compile_options(-march=native)
  # clang 19 on a CPU that reports AVX10.1 (Sapphire Rapids and later, given a recent kernel or
  # hypervisor) expands -march=native to +avx10.1-256, then warns that its own choice becomes
  # avx10.1-512. The warning is about the compiler's CPU detection, not our code, and -Werror
  # would turn it into a failed build, so it is silenced where the compiler knows it.
  include(CheckCXXCompilerFlag)
  check_cxx_compiler_flag(-Winvalid-feature-combination PULSE_HAS_INVALID_FEATURE_COMBINATION_WARNING)
  if(PULSE_HAS_INVALID_FEATURE_COMBINATION_WARNING)
    add_compile_options(-Wno-invalid-feature-combination)
  endif()
endif()

# Warnings for pulse's own targets only; never pushed onto consumers.
function(pulse_apply_project_flags target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wnon-virtual-dtor)
  if(PULSE_DEVELOPER_MODE)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
