/* fuzz_prototext.c - libFuzzer target for engine/prototext.c: the input split
 * on spaces is a `bourse send` command line; then the record it makes (or the
 * raw input as an event record) is printed as JSON. Errors are fine; crashes,
 * overruns and messageless errors are not. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prototext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *argv[32];
    int argc = 0;
    for (char *tok = strtok(text, " \n"); tok != NULL && argc < 32; tok = strtok(NULL, " \n"))
        argv[argc++] = tok;
    rec_t rec;
    err_t err = {0};
    if (prototext_command(argc, argv, &rec, &err) < 0 && err.msg[0] == '\0')
        abort();
    rec_t ev;
    memset(&ev, 0, sizeof(ev));
    memcpy(&ev, data, size < sizeof(ev) ? size : sizeof(ev));
    char line[256]; /* small on purpose: truncation must be safe */
    prototext_event_json(&ev, line, sizeof(line));
    free(text);
    return 0;
}
