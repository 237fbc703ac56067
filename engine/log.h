/* log.h - structured logs: one JSON object a line on stderr.
 * For the processes at the edges (engine main, gateways, CLI), never the hot
 * path. seq is the command sequence the line is about (0: none), the
 * correlation id that joins a log line to journal and event records. */
#ifndef BOURSE_LOG_H
#define BOURSE_LOG_H

#include <stdint.h>

typedef enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

/* Names the process in every line ("engine", "rest", ...). Call once in main. */
void log_init(const char *proc, log_level_t min_level);

void log_msg(log_level_t level, uint64_t seq, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_info(...) log_msg(LOG_INFO, 0, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, 0, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, 0, __VA_ARGS__)

#endif
