/* fuzz_config.c - libFuzzer target for engine/config.c: any bytes as an INI
 * file give 0 or an error with a message, never a crash or an overrun. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    config_t cfg;
    config_defaults(&cfg);
    err_t err = {0};
    if (config_parse(&cfg, text, "fuzz", &err) < 0 && (err.msg[0] == '\0' || err.code >= 0))
        abort(); /* an error must say what it is */
    free(text);
    return 0;
}
