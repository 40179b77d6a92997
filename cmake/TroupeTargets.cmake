# troupe_library(): one static library per folder, with the layering rule of DESIGN.md §2
# enforced at configure time, our warnings, and the shared precompiled header.
#
# Layers, left to right; a target may link only targets of a smaller layer:
#   messages 0 → runtime 1 → isolation 2 → actors/common 3 → actors/allocator 4
#   → actors/{master,agent} 5 → frameworks/sdk 6 → frameworks/{executors,examples,...} 7
#   → tools (executables, unchecked).  tests/support may link anything.
# FRAMEWORK targets additionally may not link any actors/ target (layers 3–5): a framework
# talks to the master through messages/ only, like a third-party one.

# The precompiled header every troupe target reuses: CAF and protobuf are the expensive parts.
add_library(troupe_pch STATIC ${CMAKE_CURRENT_LIST_DIR}/pch/pch.cpp)
target_link_libraries(troupe_pch PUBLIC CAF::io CAF::core protobuf::libprotobuf)
target_compile_options(troupe_pch PRIVATE ${TROUPE_WARNINGS})
target_precompile_headers(troupe_pch PRIVATE
  <caf/all.hpp> <caf/io/all.hpp>
  <google/protobuf/message.h> <google/protobuf/repeated_field.h>
  <algorithm> <chrono> <cstdint> <functional> <map> <memory> <optional> <string> <vector>)

function(troupe_use_pch target)
  target_precompile_headers(${target} REUSE_FROM troupe_pch)
endfunction()

# troupe_library(<name> LAYER <n> [FRAMEWORK] SOURCES ... [PUBLIC ...] [PRIVATE ...]
#                [INCLUDE <dir>])
function(troupe_library name)
  cmake_parse_arguments(A "FRAMEWORK" "LAYER;INCLUDE" "SOURCES;PUBLIC;PRIVATE" ${ARGN})
  if(NOT DEFINED A_LAYER)
    message(FATAL_ERROR "troupe_library(${name}): LAYER is required")
  endif()
  add_library(${name} STATIC ${A_SOURCES})
  set_property(TARGET ${name} PROPERTY TROUPE_LAYER ${A_LAYER})
  set_property(TARGET ${name} PROPERTY TROUPE_FRAMEWORK ${A_FRAMEWORK})
  set_property(GLOBAL APPEND PROPERTY TROUPE_LIBRARIES ${name})
  target_link_libraries(${name} PUBLIC ${A_PUBLIC} PRIVATE ${A_PRIVATE})
  if(A_INCLUDE)
    target_include_directories(${name} PUBLIC ${A_INCLUDE})
  endif()
  target_compile_options(${name} PRIVATE ${TROUPE_WARNINGS})
  troupe_use_pch(${name})
endfunction()

# Checks every link of every troupe library against the layers. Runs once all folders are
# configured (targets to the right of a folder do not exist yet while it is configured).
function(troupe_check_layering)
  get_property(libs GLOBAL PROPERTY TROUPE_LIBRARIES)
  foreach(lib IN LISTS libs)
    get_property(layer TARGET ${lib} PROPERTY TROUPE_LAYER)
    get_property(framework TARGET ${lib} PROPERTY TROUPE_FRAMEWORK)
    get_property(deps TARGET ${lib} PROPERTY LINK_LIBRARIES)
    foreach(dep IN LISTS deps)
      if(NOT TARGET ${dep})
        continue()
      endif()
      get_property(dep_layer TARGET ${dep} PROPERTY TROUPE_LAYER)
      if("${dep_layer}" STREQUAL "")
        continue()
      endif()
      if(NOT dep_layer LESS layer)
        message(FATAL_ERROR "layering: ${lib} (layer ${layer}) may not link ${dep} "
                            "(layer ${dep_layer}); see DESIGN.md §2")
      endif()
      if(framework AND dep_layer GREATER_EQUAL 3 AND dep_layer LESS_EQUAL 5)
        message(FATAL_ERROR "layering: framework target ${lib} may not link actors/ target ${dep}")
      endif()
    endforeach()
  endforeach()
endfunction()

# troupe_executable(<name> SOURCES ... [LIBS ...]): a program under tools/ or tests/.
function(troupe_executable name)
  cmake_parse_arguments(A "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_LIBS})
  target_compile_options(${name} PRIVATE ${TROUPE_WARNINGS})
  troupe_use_pch(${name})
endfunction()
