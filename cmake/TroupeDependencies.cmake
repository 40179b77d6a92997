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
