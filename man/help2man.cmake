# cmake -DHELP2MAN=... -DPROGRAM=... -DSECTION=... -DDESCRIPTION=... -DINCLUDE=file.h2m -DOUT=...
#       [-DSUBCOMMANDS=ON] -P help2man.cmake
# Runs help2man on PROGRAM with the hand-written INCLUDE. With SUBCOMMANDS, a COMMANDS section is
# added first with the --help of every subcommand `PROGRAM --help` lists (and of theirs), so the
# page carries each command's options without a second copy of them.
get_filename_component(name "${PROGRAM}" NAME)
get_filename_component(dir "${OUT}" DIRECTORY)
set(include "${INCLUDE}")

# roff-safe preformatted text: backslashes doubled, lines that start with . or ' escaped, and the
# build path of the program (in "Usage:") reduced to its name.
function(roff_block text out_var)
  string(REPLACE "${PROGRAM}" "${name}" text "${text}")
  string(REPLACE "\\" "\\e" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${out_var} ".nf\n${text}.fi\n" PARENT_SCOPE)
endfunction()

function(subcommands_of words out_var)
  execute_process(COMMAND "${PROGRAM}" ${words} --help OUTPUT_VARIABLE help RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name} ${words} --help exited ${rc}")
  endif()
  set(names "")
  if(help MATCHES "\nSubcommands:\n(.*)")
    string(REGEX MATCHALL "(^|\n)  [a-z][a-z0-9_-]*" lines "${CMAKE_MATCH_1}")
    foreach(line ${lines})
      string(STRIP "${line}" line)
      list(APPEND names "${line}")
    endforeach()
  endif()
  set(${out_var} "${names}" PARENT_SCOPE)
endfunction()

if(SUBCOMMANDS)
  set(commands "[COMMANDS]\nEach command's own \\fB--help\\fR, as the program prints it.\n")
  set(queue "")
  subcommands_of("" top)
  foreach(sub ${top})
    list(APPEND queue "${sub}")
  endforeach()
  while(queue)
    list(POP_FRONT queue words)
    string(REPLACE " " ";" argv "${words}")
    execute_process(COMMAND "${PROGRAM}" ${argv} --help OUTPUT_VARIABLE help RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "${name} ${words} --help exited ${rc}")
    endif()
    roff_block("${help}" block)
    string(APPEND commands ".SS \"${name} ${words}\"\n${block}")
    subcommands_of("${argv}" nested)
    set(children "")
    foreach(sub ${nested})
      list(APPEND children "${words} ${sub}")
    endforeach()
    list(PREPEND queue ${children})
  endwhile()
  file(READ "${INCLUDE}" hand)
  set(include "${dir}/${name}.h2m")
  file(WRITE "${include}" "${commands}\n${hand}")
endif()

execute_process(
  COMMAND "${HELP2MAN}" --no-info --section=${SECTION} "--name=${DESCRIPTION}"
          "--include=${include}" "--output=${OUT}.tmp" "${PROGRAM}"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "help2man ${PROGRAM} exited ${rc}")
endif()
# help2man writes the path it ran; the page names the program.
file(READ "${OUT}.tmp" page)
string(REPLACE "${PROGRAM}" "${name}" page "${page}")
file(WRITE "${OUT}" "${page}")
file(REMOVE "${OUT}.tmp")
