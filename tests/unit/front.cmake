# The compiler front end: scanner, parser, semantic checks, diagnostics.
fbpf_unit_test(test_lexer SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_lexer.c LIBS fbpfc_front)
fbpf_unit_test(test_parser SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_parser.c LIBS fbpfc_front)
fbpf_unit_test(test_sema SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_sema.c LIBS fbpfc_front)
# tests/golden/NAME.fbp -> NAME.expected; FBPF_UPDATE_GOLDEN=1 rewrites them
fbpf_unit_test(test_golden SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_golden.c LIBS fbpfc_front)
