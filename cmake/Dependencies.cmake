# Third-party libraries, all from Debian packages (scripts/install-deps.sh).
find_package(PkgConfig REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(Threads REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(RocksDB REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(P11KIT REQUIRED IMPORTED_TARGET p11-kit-1)
find_library(GFSHARE_LIBRARY gfshare REQUIRED)
find_path(GFSHARE_INCLUDE_DIR libgfshare.h REQUIRED)
add_library(custos_gfshare INTERFACE)
target_link_libraries(custos_gfshare INTERFACE ${GFSHARE_LIBRARY})
target_include_directories(custos_gfshare INTERFACE ${GFSHARE_INCLUDE_DIR})

if(CUSTOS_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
if(CUSTOS_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

# The shared conformance data (Cedar corpus, test vectors) sits beside the repository.
set(CUSTOS_SHARED_DIR "${PROJECT_SOURCE_DIR}/../shared" CACHE PATH
    "Folder holding cedar/, vectors/ and openlineage/")
