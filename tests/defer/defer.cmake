# Deferred operations (runtime/defer): options, the audit handler, helper
# processes (timeouts, deaths and restarts, malformed answers, concurrency,
# SIGPIPE) and the example handler examples/handler/gate.sh. Real processes:
# test_defer starts fbpf_defer_test_helper and sh.
add_executable(fbpf_defer_test_helper ${CMAKE_CURRENT_LIST_DIR}/test_helper.c)
fbpf_unit_test(test_defer SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_defer.c
  LIBS fbpf_defer fbpfc_core)
target_compile_definitions(test_defer PRIVATE
  FBPF_TEST_HELPER="$<TARGET_FILE:fbpf_defer_test_helper>")
add_dependencies(test_defer fbpf_defer_test_helper)
# Every ```fbp block of docs/handlers.md compiles (the same checker as docs/language.md).
add_test(NAME docs_handlers_examples
  COMMAND sh ${CMAKE_SOURCE_DIR}/tests/docs/extract_examples.sh
          $<TARGET_FILE:fbpfc>
          ${CMAKE_SOURCE_DIR}/docs/handlers.md
          ${CMAKE_CURRENT_BINARY_DIR}/docs_handlers_examples)
set_tests_properties(docs_handlers_examples PROPERTIES LABELS "docs" TIMEOUT 120)
