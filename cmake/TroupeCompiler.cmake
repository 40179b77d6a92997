# Compiler launcher and warnings. ccache is used when present; precompiled headers need the
# sloppiness below or ccache never hits.
find_program(TROUPE_CCACHE ccache)
if(TROUPE_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env
      CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
      ${TROUPE_CCACHE})
  message(STATUS "troupe: compiling through ccache (${TROUPE_CCACHE})")
endif()

# Our own code only: third-party headers come in as SYSTEM includes (imported targets, and the
# generated protobuf headers, see messages/CMakeLists.txt).
set(TROUPE_WARNINGS -Wall -Wextra -Werror)
