# The VM suite (tests/vm/run.sh): boots trixie's 6.12 and trixie-backports'
# 7.x kernels in qemu with fbpf.ko and runs the guest suite there. Skipped
# (77) when not root or when qemu or mmdebstrap is missing. The build root is
# kept beside the source tree (fbpf-vmroot; FBPF_VM_ROOT overrides); logs and
# consoles go to <build>/tests/vm.

# The guest's module test helper: loads hand-written struct_ops objects,
# stresses a mount, reports errnos, reloads a kernel-mode mount. Built here too so that it stays compilable.
add_executable(fbpf_vmtest ${CMAKE_CURRENT_LIST_DIR}/vmtest.c)
target_link_libraries(fbpf_vmtest PRIVATE fbpf_kernel PkgConfig::LIBBPF)

add_test(NAME vm
  COMMAND sh -c "if [ \"$(id -u)\" != 0 ]; then echo 'vm: skipped: the VM suite needs root (mmdebstrap, chroot)'; exit 77; fi
for t in qemu-system-x86_64 mmdebstrap cpio; do
  command -v $t >/dev/null || { echo \"vm: skipped: $t is missing: apt-get install qemu-system-x86 mmdebstrap cpio\"; exit 77; }
done
exec \"$1\"/tests/vm/run.sh" sh ${CMAKE_SOURCE_DIR})
set_tests_properties(vm PROPERTIES
  SKIP_RETURN_CODE 77
  TIMEOUT 3600
  LABELS "vm"
  ENVIRONMENT "FBPF_VM_OUT=${CMAKE_BINARY_DIR}/tests/vm")

# The kernel backend where the module is absent: its refusals (runs anywhere).
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/tests/vm/kh_passthrough.o
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/tests/vm
  COMMAND fbpfc compile ${CMAKE_SOURCE_DIR}/tests/fs/policies/passthrough.fbp
          -o ${CMAKE_BINARY_DIR}/tests/vm/kh_passthrough.o
  DEPENDS ${CMAKE_SOURCE_DIR}/tests/fs/policies/passthrough.fbp fbpfc
  VERBATIM)
add_custom_target(fbpf_kernel_host_policy DEPENDS ${CMAKE_BINARY_DIR}/tests/vm/kh_passthrough.o)
fbpf_unit_test(test_kernel_host SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_kernel_host.c
  LIBS fbpf_kernel)
add_dependencies(test_kernel_host fbpf_kernel_host_policy)
