# Lowering and the native evaluator, against docs/language.md.
fbpf_unit_test(test_eval SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_eval.c LIBS fbpfc_core)
