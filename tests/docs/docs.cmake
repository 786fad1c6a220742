# docs_examples: every ```fbp block of docs/language.md is a complete policy
# that fbpfc compiles, and every ```fbp-error block is rejected with the
# diagnostics shown in the ```text block after it. On the first failure the
# test names the line of docs/language.md where the block starts.
# (Included by tests/CMakeLists.txt.)
add_test(NAME docs_examples
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/extract_examples.sh
          $<TARGET_FILE:fbpfc>
          ${CMAKE_SOURCE_DIR}/docs/language.md
          ${CMAKE_CURRENT_BINARY_DIR}/docs_examples)
set_tests_properties(docs_examples PROPERTIES LABELS "docs" TIMEOUT 600)
