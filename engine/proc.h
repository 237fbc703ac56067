/* proc.h - process identity that survives pid reuse.
 * A pid alone can be recycled by the kernel; pid plus the process start time
 * (field 22 of /proc/<pid>/stat, clock ticks since boot) cannot. Used by the
 * segment (engine ownership) and the registries (client and reader leases). */
#ifndef BOURSE_PROC_H
#define BOURSE_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads the start time of pid. Returns 0, -ESRCH when no such process, or
 * another negative errno when /proc cannot be read or parsed. */
int proc_start_time(pid_t pid, uint64_t *start_time);

/* True while the process pid that started at start_time is alive. A
 * start_time of 0 matches any start time (the owner had not written it yet). */
bool proc_alive(pid_t pid, uint64_t start_time);

#endif
