# Behavioural tests of the mounted filesystem: fbpf_fstest mounts the policies
# of tests/fs/policies/ (and every examples/*/policy.fbp, as ex_NAME.o) with
# the real fbpf-run and acts through real system calls. Needs root and
# /dev/fuse (exit 77, skipped, otherwise). The same binary runs in the VM
# against kernel mode: FBPF_MODE=kernel FBPF_RUN=... FBPF_POLICY_DIR=...
set(FBPF_FS_POLICY_DIR ${CMAKE_BINARY_DIR}/tests/fs/policies)
file(GLOB FBPF_FS_POLICY_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/policies/*.fbp)
file(GLOB FBPF_FS_EXAMPLE_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/examples/*/policy.fbp)
set(FBPF_FS_POLICY_OBJECTS)
foreach(src ${FBPF_FS_POLICY_SOURCES} ${FBPF_FS_EXAMPLE_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  if(name STREQUAL "policy")
    get_filename_component(dir ${src} DIRECTORY)
    get_filename_component(ex ${dir} NAME)
    set(name ex_${ex})
  endif()
  set(obj ${FBPF_FS_POLICY_DIR}/${name}.o)
  add_custom_command(OUTPUT ${obj}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${FBPF_FS_POLICY_DIR}
    COMMAND fbpfc compile ${src} -o ${obj}
    DEPENDS ${src} fbpfc
    COMMENT "fbpfc compile ${name}"
    VERBATIM)
  list(APPEND FBPF_FS_POLICY_OBJECTS ${obj})
endforeach()
add_custom_target(fbpf_fs_policies DEPENDS ${FBPF_FS_POLICY_OBJECTS})

fbpf_unit_test(fbpf_fstest SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/fstest_main.c ${CMAKE_CURRENT_LIST_DIR}/fstest_util.c
  ${CMAKE_CURRENT_LIST_DIR}/t_actions.c ${CMAKE_CURRENT_LIST_DIR}/t_callers.c
  ${CMAKE_CURRENT_LIST_DIR}/t_defer.c ${CMAKE_CURRENT_LIST_DIR}/t_escape.c
  ${CMAKE_CURRENT_LIST_DIR}/t_examples.c ${CMAKE_CURRENT_LIST_DIR}/t_hidden.c
  ${CMAKE_CURRENT_LIST_DIR}/t_posix.c ${CMAKE_CURRENT_LIST_DIR}/t_renames.c)
add_dependencies(fbpf_fstest fbpf_fs_policies)
if(TARGET fbpf-run)
  add_dependencies(fbpf_fstest fbpf-run)
  set(FBPF_FS_RUN $<TARGET_FILE:fbpf-run>)
else()
  set(FBPF_FS_RUN ${CMAKE_BINARY_DIR}/runtime/cli/fbpf-run)
endif()
set_tests_properties(fbpf_fstest PROPERTIES
  SKIP_RETURN_CODE 77 TIMEOUT 600 LABELS "fs;mount"
  ENVIRONMENT "CK_DEFAULT_TIMEOUT=120;FBPF_MODE=fuse;FBPF_RUN=${FBPF_FS_RUN};FBPF_POLICY_DIR=${FBPF_FS_POLICY_DIR}")
