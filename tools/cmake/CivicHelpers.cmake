# Declarative helpers in the spirit of abseil's absl_cc_library / absl_cc_test, so each
# folder's CMakeLists.txt is a few uniform lines.

# -Wmissing-field-initializers is off: C++20 designated initializers ({.name = x}) rely
# on the defaults written beside each field, which is how our options structs are meant
# to be used.
set(CIVIC_WARNINGS -Wall -Wextra -Wpedantic -Wno-unused-parameter -Wno-missing-field-initializers)

# civic_cc_library(NAME name SRCS ... [DEPS ...])
# Defines civic_<name> with the repository root on the include path.
function(civic_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(civic_${ARG_NAME} STATIC ${ARG_SRCS})
  target_include_directories(civic_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(civic_${ARG_NAME} PRIVATE ${CIVIC_WARNINGS})
  target_link_libraries(civic_${ARG_NAME} PUBLIC ${ARG_DEPS})
endfunction()

# civic_cc_test(NAME name SRCS ... [DEPS ...])
# A Catch2 test binary whose cases are registered with CTest one by one.
function(civic_cc_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_compile_options(${ARG_NAME} PRIVATE ${CIVIC_WARNINGS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} Catch2::Catch2WithMain)
  target_compile_definitions(${ARG_NAME} PRIVATE
    CIVIC_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    CIVIC_BINARY_DIR="${PROJECT_BINARY_DIR}")
  # --warn NoTests: a name CTest cannot pass through intact (a ';' splits it) would match
  # no test and pass without running anything; this makes it fail instead.
  catch_discover_tests(${ARG_NAME}
    EXTRA_ARGS --warn NoTests
    PROPERTIES ENVIRONMENT "CIVIC_SHARED_DATA=${PROJECT_SOURCE_DIR}/../shared/data")
endfunction()
