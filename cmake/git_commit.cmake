# Writes OUT, a header defining GUISE_COMMIT: `git describe` of the source tree SRC
# (runc's form), or "unknown" outside a git checkout. Rewritten only when it changes,
# so an unchanged commit rebuilds nothing.
execute_process(
  COMMAND git -C "${SRC}" describe --dirty --long --always
  OUTPUT_VARIABLE commit
  OUTPUT_STRIP_TRAILING_WHITESPACE
  ERROR_QUIET
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR commit STREQUAL "")
  set(commit unknown)
endif()
set(text "#define GUISE_COMMIT \"${commit}\"\n")
set(old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
