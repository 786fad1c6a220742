# fbpfc's commands as a user runs them: compile, check, explain, dump, --help, --json.
fbpf_unit_test(test_fbpfc SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_fbpfc.c)
add_dependencies(test_fbpfc fbpfc)
