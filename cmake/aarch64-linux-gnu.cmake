# Cross build for 64-bit ARM Linux (Raspberry Pi 3/4/5 with a 64-bit OS, Graviton,
# Jetson, ...) from an x86 host:
#   apt-get install -y g++-aarch64-linux-gnu qemu-user-static
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
#   cmake --build build-arm64 -j2
#   qemu-aarch64-static ./build-arm64/lowbit_kernel_tests
# The test binary is linked statically so qemu needs no sysroot; a dynamic build
# also runs with `qemu-aarch64-static -L /usr/aarch64-linux-gnu`.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(LOWBIT_CROSS_PREFIX aarch64-linux-gnu- CACHE STRING "Prefix of the cross tools")
set(CMAKE_C_COMPILER ${LOWBIT_CROSS_PREFIX}gcc)
set(CMAKE_CXX_COMPILER ${LOWBIT_CROSS_PREFIX}g++)

set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Executables (the kernel test binary) link statically; shared libraries (the
# addon under cmake-js) are unaffected.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static)
