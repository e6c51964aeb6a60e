# admin_embed.cmake: turns the dashboard page (src/admin_page.html) into a C source
# defining graft__admin_page / graft__admin_page_len (src/admin_page.h), so the library
# serves it with nothing to install. Run as: cmake -DIN=page.html -DOUT=page.c -P this
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" hexlen)
math(EXPR len "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
# 16 bytes per line keeps the generated file readable in a debugger.
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n    " bytes "${bytes}")
file(WRITE "${OUT}.tmp"
  "/* Generated from src/admin_page.html by src/admin_embed.cmake: do not edit. */\n"
  "#include \"admin_page.h\"\n\n"
  "const char graft__admin_page[] = {\n    ${bytes}0x00};\n"
  "const size_t graft__admin_page_len = ${len};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
