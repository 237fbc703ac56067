/* log.c - see log.h. The process name and level are the one piece of global
 * state here: a logger is per process by nature, and main() sets it once. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static const char *log_proc = "bourse";
static log_level_t log_min = LOG_INFO;

void log_init(const char *proc, log_level_t min_level)
{
    log_proc = proc;
    log_min = min_level;
}

static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
}

void log_msg(log_level_t level, uint64_t seq, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if (level < log_min)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);

    flockfile(stderr);
    fprintf(stderr, "{\"ts\":\"%s.%06ldZ\",\"level\":\"%s\",\"proc\":\"", when, ts.tv_nsec / 1000,
            names[level]);
    put_escaped(stderr, log_proc);
    fprintf(stderr, "\",\"seq\":%llu,\"msg\":\"", (unsigned long long)seq);
    put_escaped(stderr, msg);
    fputs("\"}\n", stderr);
    funlockfile(stderr);
}
