# The automaton: globs -> one minimal DFA -> comb tables (compiler/glob.c, compiler/dfa.c).
# Prints the seed of its random tests (FBPF_TEST_SEED=<n> to replay another) and the
# build time and table sizes of a generated 10,000-rule policy.
fbpf_unit_test(test_automaton SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_automaton.c LIBS fbpfc_automaton)
