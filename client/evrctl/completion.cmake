# cmake -DPROGRAM=<evrctl> -DOUT=<file> -P completion.cmake: writes `evrctl completion bash` to OUT
# (a failing run fails the build instead of installing an empty script).
execute_process(COMMAND "${PROGRAM}" completion bash OUTPUT_FILE "${OUT}.tmp" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE "${OUT}.tmp")
  message(FATAL_ERROR "${PROGRAM} completion bash exited ${rc}")
endif()
file(RENAME "${OUT}.tmp" "${OUT}")
