# libFuzzer target for the front end (parse_policy + sema_check), built with
# ${FBPF_CLANG} -fsanitize=fuzzer,address,undefined outside the gcc build,
# and the ctest `fuzz_parser` that runs it for 20 s over a copy of
# tests/fuzz/corpus. Without clang's fuzzer runtime the test says so and
# is skipped (exit 77).
set(FBPF_FUZZ_DIR ${CMAKE_SOURCE_DIR}/tests/fuzz)
set(FBPF_FUZZ_BIN ${CMAKE_CURRENT_BINARY_DIR}/fuzz/fuzz_parser)
set(FBPF_FUZZ_WHY "")
set(FBPF_FUZZ_ARG "")

# Can this clang link a fuzzer with ASan and UBSan?
set(probe_dir ${CMAKE_CURRENT_BINARY_DIR}/fuzz/probe)
file(MAKE_DIRECTORY ${probe_dir})
file(WRITE ${probe_dir}/probe.c
  "#include <stdint.h>\n#include <stddef.h>\n"
  "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n")
execute_process(COMMAND ${FBPF_CLANG} -fsanitize=fuzzer,address,undefined ${probe_dir}/probe.c
                        -o ${probe_dir}/probe
  RESULT_VARIABLE probe_rc OUTPUT_QUIET ERROR_VARIABLE probe_err)
if(NOT probe_rc EQUAL 0)
  set(FBPF_FUZZ_WHY "${FBPF_CLANG} cannot link -fsanitize=fuzzer,address,undefined (install libclang-rt-19-dev)")
  message(STATUS "fuzz_parser: skipped, ${FBPF_FUZZ_WHY}")
else()
  set(fuzz_sources
    ${FBPF_FUZZ_DIR}/fuzz_parser.c
    ${CMAKE_SOURCE_DIR}/compiler/ast.c
    ${CMAKE_SOURCE_DIR}/compiler/diag.c
    ${CMAKE_SOURCE_DIR}/compiler/sema.c
    ${CMAKE_SOURCE_DIR}/compiler/glob.c
    ${CMAKE_SOURCE_DIR}/compiler/dfa.c
    ${CMAKE_SOURCE_DIR}/runtime/json.c
    ${CMAKE_BINARY_DIR}/compiler/parser.c
    ${CMAKE_BINARY_DIR}/compiler/lexer.c)
  file(GLOB fuzz_headers ${CMAKE_SOURCE_DIR}/compiler/*.h)
  add_custom_command(OUTPUT ${FBPF_FUZZ_BIN}
    COMMAND ${FBPF_CLANG} -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined
            -fno-sanitize-recover=undefined -fno-omit-frame-pointer
            -I${CMAKE_SOURCE_DIR}/compiler -I${CMAKE_BINARY_DIR}/compiler -I${CMAKE_SOURCE_DIR}/runtime -I${FBPF_STDLIB_DIR}
            ${fuzz_sources} -o ${FBPF_FUZZ_BIN}
    DEPENDS ${fuzz_sources} ${fuzz_headers} ${CMAKE_BINARY_DIR}/compiler/parser.h
    COMMENT "Building the parser fuzzer with ${FBPF_CLANG}"
    VERBATIM)
  add_custom_target(fuzz_parser_build ALL DEPENDS ${FBPF_FUZZ_BIN})
  add_dependencies(fuzz_parser_build fbpfc_front fbpfc_automaton)
  set(FBPF_FUZZ_ARG ${FBPF_FUZZ_BIN})
endif()

add_test(NAME fuzz_parser
  COMMAND sh ${FBPF_FUZZ_DIR}/run_fuzz.sh "${FBPF_FUZZ_ARG}"
          ${FBPF_FUZZ_DIR}/corpus ${FBPF_FUZZ_DIR}/fbp.dict ${CMAKE_CURRENT_BINARY_DIR}/fuzz/run 20
          "${FBPF_FUZZ_WHY}")
set_tests_properties(fuzz_parser PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 180)
