# Project-wide compile flags. Sanitizers apply to every target in the tree (library, tests,
# examples) so that instrumented and uninstrumented code never mix.

if(PULSE_SANITIZE)
  add_compile_options(-fsanitize=${PULSE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${PULSE_SANITIZE})
endif()
if(PULSE_NATIVE)
  add_compile_options(-march=native)
endif()

# Warnings for pulse's own targets only; never pushed onto consumers.
function(pulse_apply_project_flags target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wnon-virtual-dtor)
  if(PULSE_DEVELOPER_MODE)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
