#ifndef GENOMIC_ULMFIT_CHWLOC_SHIM_H
#define GENOMIC_ULMFIT_CHWLOC_SHIM_H
#include <hwloc.h>
#include <stdint.h>
// glibc declares sched_getcpu only under _GNU_SOURCE; declare it so Swift can verify placement.
extern int sched_getcpu(void);

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <time.h>
// syscall() is variadic, which Swift cannot call: wrap the two futex operations the barrier and
// the worker pool block on. `word` must be the address of a 32-bit atomic shared by the threads.

/// Sleeps while *word == expected (returns at once if it already differs). Spurious wake-ups
/// are allowed; callers re-check their condition.
static inline long genomic_futex_wait(uint32_t *word, uint32_t expected) {
    return syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}
/// Wakes every thread sleeping on `word`.
static inline long genomic_futex_wake_all(uint32_t *word) {
    return syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}
#endif

/// Spin-loop hint (x86 `pause`): lets the sibling hyper-thread run and saves power while spinning.
static inline void genomic_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// Monotonic clock in nanoseconds (barrier wait accounting).
static inline uint64_t genomic_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
#endif
