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
# ZooKeeper 3.8 C client (runtime/election). Debian ships no pkg-config file or CMake config.
# The multithreaded library needs -DTHREADED in every TU that includes zookeeper.h (else the
# synchronous API is not declared): runtime/CMakeLists.txt sets it on the TUs that include it
# (runtime/src/election/), and only runtime links it (PRIVATE).
find_path(ZOOKEEPER_INCLUDE_DIR zookeeper/zookeeper.h REQUIRED)
find_library(ZOOKEEPER_MT_LIBRARY zookeeper_mt REQUIRED)
add_library(troupe_zookeeper_mt INTERFACE IMPORTED)
target_include_directories(troupe_zookeeper_mt INTERFACE ${ZOOKEEPER_INCLUDE_DIR})
target_link_libraries(troupe_zookeeper_mt INTERFACE ${ZOOKEEPER_MT_LIBRARY} Threads::Threads)
# LevelDB 1.23 (runtime/store's embedded backend). Debian ships neither a CMake config nor a .pc
# file, so find it by hand. Only runtime/ links it (PRIVATE); only src/store/leveldb_store.cpp
# includes its headers (pimpl).
find_path(LEVELDB_INCLUDE_DIR leveldb/db.h REQUIRED)
find_library(LEVELDB_LIBRARY leveldb REQUIRED)
add_library(troupe_leveldb INTERFACE IMPORTED)
target_include_directories(troupe_leveldb INTERFACE ${LEVELDB_INCLUDE_DIR})
target_link_libraries(troupe_leveldb INTERFACE ${LEVELDB_LIBRARY})
