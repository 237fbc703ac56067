/* check.h - the test harness: named test functions, checks that report the
 * file, line and values, a seed taken from BOURSE_SEED for randomized tests.
 * Each test binary lists its tests in main() with RUN(); a name given on the
 * command line runs only that test. */
#ifndef BOURSE_CHECK_H
#define BOURSE_CHECK_H

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int check_failures;
static int check_current_failed;
static int check_argc;
static char **check_argv;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
            check_current_failed = 1;                                                      \
            return;                                                                        \
        }                                                                                  \
    } while (0)

#define CHECK_EQ(a, b)                                                                     \
    do {                                                                                   \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                    \
        if (check_a_ != check_b_) {                                                        \
            fprintf(stderr, "  %s:%d: check failed: %s == %s (%lld != %lld)\n", __FILE__,  \
                    __LINE__, #a, #b, check_a_, check_b_);                                 \
            check_current_failed = 1;                                                      \
            return;                                                                        \
        }                                                                                  \
    } while (0)

#define CHECK_STR_HAS(s, sub)                                                              \
    do {                                                                                   \
        if (strstr((s), (sub)) == NULL) {                                                  \
            fprintf(stderr, "  %s:%d: '%s' does not contain '%s'\n", __FILE__, __LINE__,   \
                    (s), (sub));                                                           \
            check_current_failed = 1;                                                      \
            return;                                                                        \
        }                                                                                  \
    } while (0)

static inline int check_selected(const char *name)
{
    if (check_argc < 2)
        return 1;
    for (int i = 1; i < check_argc; i++)
        if (strcmp(check_argv[i], name) == 0)
            return 1;
    return 0;
}

/* The call goes through a volatile pointer: a test inlined into main() would
 * add its locals to main's frame, and clang's ASan builds of files with many
 * tests (test_matcher: a fixture of events each) then overflow the stack. */
#define RUN(fn)                                                                            \
    do {                                                                                   \
        if (!check_selected(#fn))                                                          \
            break;                                                                         \
        check_current_failed = 0;                                                          \
        void (*volatile check_fn_)(void) = fn;                                             \
        check_fn_();                                                                       \
        printf("%s %s\n", check_current_failed ? "FAIL" : "ok  ", #fn);                  \
        fflush(stdout);                                                                    \
        check_failures += check_current_failed;                                            \
    } while (0)

#define CHECK_MAIN_BEGIN(argc, argv)                                                       \
    check_argc = (argc);                                                                   \
    check_argv = (argv)

#define CHECK_MAIN_END() return check_failures ? 1 : 0

/* Seed for randomized tests: BOURSE_SEED if set, else the clock; printed so a
 * failure can be replayed. */
static inline uint64_t check_seed(void)
{
    const char *s = getenv("BOURSE_SEED");
    uint64_t seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);
    printf("seed %" PRIu64 " (set BOURSE_SEED to replay)\n", seed);
    return seed;
}

/* Waits on another thread or process end at their event (a lease taken, a
 * seq reached); a deadline only bounds them, and is generous: a sanitizer
 * build on a loaded machine is slow, and a wait that holds costs nothing. */
enum { CHECK_WAIT_S = 60 };

static inline uint64_t check_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The deadline of a wait that starts now. */
static inline uint64_t check_deadline(void)
{
    return check_mono_ns() + (uint64_t)CHECK_WAIT_S * 1000000000u;
}

static inline int check_before(uint64_t deadline)
{
    return check_mono_ns() < deadline;
}

/* A unique instance name for tests that create real segments. */
static inline void check_instance(char *buf, size_t n, const char *tag)
{
    snprintf(buf, n, "t%d-%s", (int)getpid(), tag);
}

#endif
