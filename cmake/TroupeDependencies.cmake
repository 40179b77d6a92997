# Every third-party library, found once. The Debian packages behind them are listed in
# tools/debian-packages (installed by tools/setup).
find_package(Threads REQUIRED)
find_package(CAF 0.17 REQUIRED COMPONENTS core io)
find_package(Protobuf 3.21 REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS unit_test_framework)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(prometheus-cpp REQUIRED COMPONENTS core)
# cpp-httplib 0.11.4 is a compiled library built with OpenSSL/zlib/brotli support: every TU that
# includes httplib.h must see the same CPPHTTPLIB_* definitions (pkg-config's cflags) or the
# class layouts differ and programs crash. Only runtime/ links it (PRIVATE).
find_package(PkgConfig REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# libcgroup 2.0.2 (cgroup creation for isolation/; see notes/infra.md "cgroups"). Only
# isolation/ links it (PRIVATE); its public headers never include libcgroup.h.
pkg_check_modules(LIBCGROUP REQUIRED IMPORTED_TARGET libcgroup)
