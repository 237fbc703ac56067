/* embed.c - a build tool: writes a file's bytes as a C array, so bourse-ws
 * carries its page with it (no path to find at run time).
 *   embed INPUT OUTPUT.c SYMBOL */
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: embed INPUT OUTPUT.c SYMBOL\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "w");
    if (in == NULL || out == NULL) {
        perror("embed");
        return 1;
    }
    fprintf(out, "/* generated from %s: do not edit */\n#include <stddef.h>\n#include <stdint.h>\n\n", argv[1]);
    fprintf(out, "extern const uint8_t %s[];\nextern const size_t %s_len;\n", argv[3], argv[3]);
    fprintf(out, "const uint8_t %s[] = {", argv[3]);
    size_t n = 0;
    int c;
    while ((c = fgetc(in)) != EOF)
        fprintf(out, "%s%d,", n++ % 24 ? "" : "\n    ", c);
    fprintf(out, "\n    0};\nconst size_t %s_len = %zu;\n", argv[3], n);
    int bad = ferror(in) || fclose(out) != 0;
    fclose(in);
    return bad ? 1 : 0;
}
