/* proc.c - see proc.h. */
#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* True when the thread group has a task other than its (zombie) leader. */
static bool other_threads_alive(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return false;
    int tasks = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            tasks++;
    closedir(d);
    return tasks > 1;
}

int proc_start_time(pid_t pid, uint64_t *start_time)
{
    char path[64], buf[1024];
    if (pid <= 0)
        return -ESRCH;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? -ESRCH : -errno;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    int saved = errno;
    close(fd);
    if (n < 0)
        return saved == ESRCH ? -ESRCH : -saved;
    buf[n] = '\0';
    /* comm (field 2) may hold spaces and parentheses: fields restart after the
     * last ')'. Then state is field 3 and starttime field 22. */
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return -EPROTO;
    p++;
    /* A zombie (Z) or dead (X) process has stopped running for good even
     * though its parent has not reaped it yet -- unless only its main thread
     * exited (pthread_exit in main) and other threads still run. */
    if (p[0] == ' ' && (p[1] == 'Z' || p[1] == 'X') && !other_threads_alive(pid))
        return -ESRCH;
    for (int field = 3; field < 22; field++) {
        p = strchr(p + 1, ' ');
        if (p == NULL)
            return -EPROTO;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p + 1, &end, 10);
    if (errno != 0 || end == p + 1)
        return -EPROTO;
    *start_time = (uint64_t)v;
    return 0;
}

bool proc_alive(pid_t pid, uint64_t start_time)
{
    uint64_t st;
    int rc = proc_start_time(pid, &st);
    if (rc == -ESRCH)
        return false;
    if (rc < 0)
        return true; /* cannot tell: never reclaim on a guess */
    return start_time == 0 || st == start_time;
}
