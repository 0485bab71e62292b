# Shared compile settings and helpers for custos targets.

add_library(custos_build_flags INTERFACE)
target_compile_options(custos_build_flags INTERFACE -Wall -Wextra -Wpedantic
  -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 at -O2/-O3 reports false positives through std::variant (Result<T>).
  target_compile_options(custos_build_flags INTERFACE -Wno-maybe-uninitialized)
endif()
if(CUSTOS_WERROR)
  target_compile_options(custos_build_flags INTERFACE -Werror)
endif()
if(CUSTOS_SANITIZE)
  target_compile_options(custos_build_flags INTERFACE -fsanitize=address,undefined
    -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(custos_build_flags INTERFACE -fsanitize=address,undefined)
endif()
if(CUSTOS_FUZZ)
  # Coverage instrumentation for all custos code, so libFuzzer explores the parsers,
  # not just the harness; the harnesses add -fsanitize=fuzzer at link time.
  target_compile_options(custos_build_flags INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  target_link_options(custos_build_flags INTERFACE -fsanitize=address,undefined)
endif()
target_include_directories(custos_build_flags INTERFACE ${PROJECT_SOURCE_DIR}/src)

# custos_module(NAME DEPS ...): a static library from every .cc in src/NAME
# (sources are globbed so that files added to a module need no edit here).
function(custos_module name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cc
       ${PROJECT_SOURCE_DIR}/src/${name}/detail/*.cc)
  add_library(custos_${name} STATIC ${sources})
  target_link_libraries(custos_${name} PUBLIC custos_build_flags ${ARG_DEPS})
endfunction()

# custos_module_tests(NAME DEPS ...): one GoogleTest binary from tests/NAME/*.cc,
# registered with CTest under the module's name as label.
function(custos_module_tests name)
  cmake_parse_arguments(ARG "" "" "DEPS;LABELS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/${name}/*.cc)
  if(NOT sources)
    return()
  endif()
  add_executable(custos_${name}_tests ${sources})
  target_link_libraries(custos_${name}_tests PRIVATE custos_build_flags ${ARG_DEPS}
    GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(custos_${name}_tests PRIVATE
    CUSTOS_SHARED_DIR="${CUSTOS_SHARED_DIR}"
    CUSTOS_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    CUSTOS_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(custos_${name}_tests
    PROPERTIES LABELS "${name};${ARG_LABELS}"
    DISCOVERY_TIMEOUT 60)
endfunction()
