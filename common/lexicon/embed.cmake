# Writes the lexicon files into a C source file, so the programs carry their
# lexicon and need no data directory at run time.
# Usage: cmake -DOUT=lexicon_data.c -DSOURCES="a.tsv|b.tsv" -P embed.cmake
string(REPLACE "|" ";" files "${SOURCES}")
list(SORT files)
set(body "")
set(table "")
set(count 0)
foreach(file IN LISTS files)
  file(READ "${file}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR length "${hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  get_filename_component(name "${file}" NAME)
  string(APPEND body "static const char file${count}[] = {${bytes}0};\n")
  string(APPEND table "    {\"${name}\", file${count}, ${length}},\n")
  math(EXPR count "${count} + 1")
endforeach()
file(WRITE "${OUT}.tmp"
  "/* Generated from the .tsv files of common/lexicon by its embed.cmake. */\n"
  "#include \"analyzer_internal.h\"\n\n${body}\n"
  "const td_lexicon_source_t td_builtin_lexicon[] = {\n${table}};\n"
  "const size_t td_builtin_lexicon_count = ${count};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
