# fbpfc's commands as a user runs them: compile, check, explain, dump, --help, --json.
fbpf_unit_test(test_fbpfc SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_fbpfc.c)
add_dependencies(test_fbpfc fbpfc)

# fbpf-run: mounts, errors, stats, umount, signals, unprivileged mounts (root).
add_test(NAME fbpf_run_cli COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/fbpf_run.sh ${CMAKE_BINARY_DIR})
set_tests_properties(fbpf_run_cli PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
