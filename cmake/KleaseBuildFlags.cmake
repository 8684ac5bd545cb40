# Warning and sanitizer flags for libklease's own targets only: nothing here
# touches global flags, so a parent project that vendors libklease keeps its own.
include_guard(GLOBAL)

if(KLEASE_SANITIZE AND NOT KLEASE_SANITIZE MATCHES "^(address|undefined|address,undefined|undefined,address|thread)$")
  message(FATAL_ERROR "KLEASE_SANITIZE must be address,undefined or thread (got '${KLEASE_SANITIZE}')")
endif()

function(klease_apply_build_flags target)
  if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE
      -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wpointer-arith -Wvla
      -Wmissing-prototypes -Wno-missing-field-initializers)
    if(KLEASE_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
    if(KLEASE_SANITIZE)
      target_compile_options(${target} PRIVATE -fsanitize=${KLEASE_SANITIZE} -fno-omit-frame-pointer
        -fno-sanitize-recover=all)
      target_link_options(${target} PRIVATE -fsanitize=${KLEASE_SANITIZE})
    endif()
    if(KLEASE_FUZZ)
      target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
      target_link_options(${target} PRIVATE -fsanitize=address,undefined)
    endif()
  endif()
endfunction()

# Test programs get the same warnings and sanitizers but may use any symbol.
function(klease_apply_test_flags target)
  klease_apply_build_flags(${target})
  target_compile_options(${target} PRIVATE -Wno-missing-prototypes)
endfunction()
