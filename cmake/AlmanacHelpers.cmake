# ALMANAC_PRODUCT_CXX_FLAGS: extra compile flags for the product's own code (the component
# libraries and the almanac binary), after the build type's. The ci preset compiles it at -O1: a
# test build, where -O2 cost 9 % (Eigen-heavy models) to 22 % (store) more compile time; the
# default preset, which quickstart and the benchmarks build, keeps -O2 (docs/benchmarks.md,
# "The levers").
set(ALMANAC_PRODUCT_CXX_FLAGS "" CACHE STRING "Extra compile flags for the product's code (e.g. -O1)")
function(almanac_product_settings target)
  if(ALMANAC_PRODUCT_CXX_FLAGS)
    separate_arguments(flags UNIX_COMMAND "${ALMANAC_PRODUCT_CXX_FLAGS}")
    target_compile_options(${target} PRIVATE ${flags})
  endif()
endfunction()

# almanac_cc_library(NAME name [SRCS ...] [GLOB dir] DEPS ...)
#   One static library per component, aliased almanac::<name>. Public headers live in
#   include/almanac/<name>.h (and include/almanac/<name>/); everything under src/<name>/ is private.
#   With GLOB, all *.cc files below src/<name>/ except *_test.cc and testing/ are compiled.
function(almanac_cc_library)
  cmake_parse_arguments(ARG "GLOB" "NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  set(srcs ${ARG_SRCS})
  if(ARG_GLOB)
    file(GLOB_RECURSE globbed CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
    foreach(f ${globbed})
      if(NOT f MATCHES "_test\\.cc$" AND NOT f MATCHES "/testing/")
        list(APPEND srcs ${f})
      endif()
    endforeach()
  endif()
  if(srcs)
    add_library(almanac_${ARG_NAME} STATIC ${srcs})
    target_include_directories(almanac_${ARG_NAME}
      PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_BINARY_DIR}/generated
      PRIVATE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(almanac_${ARG_NAME} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
    almanac_product_settings(almanac_${ARG_NAME})
  else()
    add_library(almanac_${ARG_NAME} INTERFACE)
    target_include_directories(almanac_${ARG_NAME}
      INTERFACE ${PROJECT_SOURCE_DIR}/include ${PROJECT_BINARY_DIR}/generated)
    target_link_libraries(almanac_${ARG_NAME} INTERFACE ${ARG_DEPS})
  endif()
  add_library(almanac::${ARG_NAME} ALIAS almanac_${ARG_NAME})
endfunction()

# Settings every test executable shares: the source tree's headers, gtest/gmock, where the
# sources and the almanac binary are, and ALMANAC_TEST_CXX_FLAGS (the ci preset compiles the
# tests' own code without optimisation: it is not what ships, and -O2 doubled its compile time).
set(ALMANAC_TEST_CXX_FLAGS "" CACHE STRING "Extra compile flags for test sources (e.g. -O0)")
function(almanac_test_settings target)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${target} PRIVATE GTest::gmock GTest::gtest_main)
  target_compile_definitions(${target} PRIVATE
    ALMANAC_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    ALMANAC_BINARY_PATH="$<TARGET_FILE_DIR:almanac>/almanac")
  if(ALMANAC_TEST_CXX_FLAGS)
    separate_arguments(flags UNIX_COMMAND "${ALMANAC_TEST_CXX_FLAGS}")
    target_compile_options(${target} PRIVATE ${flags})
  endif()
endfunction()

# almanac_integration_test(NAME name SRCS ... [DEPS ...])
#   A test executable of tests/ that runs the built `almanac` binary (label `integration`).
function(almanac_integration_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  almanac_test_settings(${ARG_NAME})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  add_dependencies(${ARG_NAME} almanac)
  gtest_discover_tests(${ARG_NAME} PROPERTIES LABELS "integration" DISCOVERY_TIMEOUT 60)
endfunction()

# The sanitizer pass (ALMANAC_SANITIZE, the asan preset): how many ctest tests each unit test
# binary is split into, and the gtest filter they run with (the asan preset leaves out the
# TBATS searches compared with R: docs/benchmarks.md, "The levers").
set(ALMANAC_SANITIZE_SHARDS 3 CACHE STRING "ctest tests per unit test binary under the sanitizers")
set(ALMANAC_SANITIZE_GTEST_FILTER "*" CACHE STRING "gtest filter of the unit tests under the sanitizers")

# almanac_cc_test(NAME name [SRCS ...] [GLOB] DEPS ... [LABELS ...])
#   One test executable per component. With GLOB, every *_test.cc and testing/*.cc below
#   the current source dir is compiled in.
function(almanac_cc_test)
  cmake_parse_arguments(ARG "GLOB" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT ALMANAC_BUILD_TESTS)
    return()
  endif()
  set(srcs ${ARG_SRCS})
  if(ARG_GLOB)
    file(GLOB_RECURSE globbed CONFIGURE_DEPENDS
         ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc ${CMAKE_CURRENT_SOURCE_DIR}/testing/*.cc)
    list(APPEND srcs ${globbed})
  endif()
  if(NOT srcs)
    return()
  endif()
  add_executable(${ARG_NAME} ${srcs})
  almanac_test_settings(${ARG_NAME})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  set(labels unit)
  if(ARG_LABELS)
    set(labels ${ARG_LABELS})
  endif()
  if("unit" IN_LIST labels)
    # Collected into the `unit_tests` target: the sanitizer pass builds only these.
    set_property(GLOBAL APPEND PROPERTY ALMANAC_UNIT_TEST_TARGETS ${ARG_NAME})
  endif()
  if(ALMANAC_SANITIZE)
    # Under the sanitizers a process start costs about 0.15 s (a 100 MB binary, ASan's shadow
    # memory, LeakSanitizer at exit): one process per test case spent about a third of the
    # ASan test time starting up. So each binary runs as ALMANAC_SANITIZE_SHARDS ctest tests
    # (NAME/shardI), gtest's own sharding putting every test case in exactly one of them, with
    # ALMANAC_SANITIZE_GTEST_FILTER; a failure names the shard, and its output the test case.
    math(EXPR last_shard "${ALMANAC_SANITIZE_SHARDS} - 1")
    foreach(i RANGE 0 ${last_shard})
      add_test(NAME ${ARG_NAME}/shard${i} COMMAND ${ARG_NAME} "--gtest_filter=${ALMANAC_SANITIZE_GTEST_FILTER}")
      set_tests_properties(${ARG_NAME}/shard${i} PROPERTIES LABELS "${labels}"
        ENVIRONMENT "GTEST_TOTAL_SHARDS=${ALMANAC_SANITIZE_SHARDS};GTEST_SHARD_INDEX=${i}")
    endforeach()
  else()
    gtest_discover_tests(${ARG_NAME} PROPERTIES LABELS "${labels}" DISCOVERY_TIMEOUT 60)
  endif()
endfunction()
