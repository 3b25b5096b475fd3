# CPACK_PRE_BUILD_SCRIPTS (packaging/CMakeLists.txt): the static libraries of evrouter-dev lose their
# debug sections before packaging, as dh_strip does (CPACK_STRIP_FILES strips programs and modules
# only); 30 MB -> a few.
file(GLOB_RECURSE evr_archives "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*.a")
foreach(archive ${evr_archives})
  execute_process(COMMAND strip --strip-debug --remove-section=.comment --enable-deterministic-archives "${archive}"
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "strip --strip-debug ${archive} failed (${rc})")
  endif()
endforeach()
