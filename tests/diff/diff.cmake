# The differential test: BPF programs (BPF_PROG_TEST_RUN) against the native
# evaluator on random policies compiled by the real fbpfc. Needs root.
fbpf_unit_test(test_diff SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_diff.c LIBS fbpf_bpftest)
add_dependencies(test_diff fbpfc)
set_tests_properties(test_diff PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1500)
