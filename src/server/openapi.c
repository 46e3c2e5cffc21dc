/* openapi.c - embeds src/server/openapi.json, the OpenAPI 3.1 document served at /openapi.json
 * (the assembler includes the file at build time, so the JSON stays the one source). */
#include "server/handler.h"

__asm__(".section .rodata\n"
        ".global sv_openapi_json\n"
        ".type sv_openapi_json, @object\n"
        "sv_openapi_json:\n"
        ".incbin \"src/server/openapi.json\"\n"
        ".byte 0\n"
        ".size sv_openapi_json, . - sv_openapi_json\n"
        ".previous\n");
