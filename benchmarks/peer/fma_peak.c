/*
 * FP32 FMA peak per core: the yardstick every throughput in benchmarks/ is
 * divided by, and the cross-check of `ulmfit bench peak`.
 *
 * Each thread runs a long loop of independent 8-wide FMAs (AVX2
 * _mm256_fmadd_ps) on 12 accumulators: enough independent chains to cover
 * FMA latency (4-5 cycles) times the two FMA pipes of Zen 3/4 and Intel cores.
 * Threads are pinned to CPUs 0..N-1 and start together behind a barrier.
 *
 *   gcc -O2 -mavx2 -mfma -pthread -o fma_peak benchmarks/peer/fma_peak.c
 *   ./fma_peak [threads] [seconds-per-trial]      (defaults: 1, 0.5)
 *
 * Prints GFLOP/s per thread and their sum, best of 5 trials (the best, since
 * a shared machine only ever makes a trial slower). Add -mavx512f
 * -DUSE_AVX512 to measure 16-wide FMAs instead (Zen 4 double-pumps them, so
 * expect the same peak there; Intel server cores may double it).
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if defined(USE_AVX512)
typedef __m512 vec;
#define LANES 16
#define set1 _mm512_set1_ps
#define fmadd _mm512_fmadd_ps
#define add _mm512_add_ps
static float hsum(vec v) { return _mm512_reduce_add_ps(v); }
#else
typedef __m256 vec;
#define LANES 8
#define set1 _mm256_set1_ps
#define fmadd _mm256_fmadd_ps
#define add _mm256_add_ps
static float hsum(vec v) {
    float f[8];
    _mm256_storeu_ps(f, v);
    return f[0] + f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7];
}
#endif

#define ACCUMULATORS 12
#define TRIALS 5

static pthread_barrier_t start_barrier;
static double seconds_per_trial = 0.5;

typedef struct {
    int cpu;
    double best_gflops;
    float sink; /* printed, so the loop cannot be optimized away */
} worker;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* `iterations` x ACCUMULATORS fused multiply-adds; a*b+c with b just below 1
 * keeps the values bounded however long it runs. */
static float fma_loop(long iterations, float seed) {
    vec acc[ACCUMULATORS];
    for (int i = 0; i < ACCUMULATORS; i++) acc[i] = set1(seed + i);
    const vec b = set1(0.99999994f), c = set1(1e-7f);
    for (long n = 0; n < iterations; n++) {
        acc[0] = fmadd(acc[0], b, c);   acc[1] = fmadd(acc[1], b, c);
        acc[2] = fmadd(acc[2], b, c);   acc[3] = fmadd(acc[3], b, c);
        acc[4] = fmadd(acc[4], b, c);   acc[5] = fmadd(acc[5], b, c);
        acc[6] = fmadd(acc[6], b, c);   acc[7] = fmadd(acc[7], b, c);
        acc[8] = fmadd(acc[8], b, c);   acc[9] = fmadd(acc[9], b, c);
        acc[10] = fmadd(acc[10], b, c); acc[11] = fmadd(acc[11], b, c);
    }
    vec s = acc[0];
    for (int i = 1; i < ACCUMULATORS; i++) s = add(s, acc[i]);
    return hsum(s);
}

static void *run(void *arg) {
    worker *w = arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(w->cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
        fprintf(stderr, "warning: could not pin a thread to CPU %d\n", w->cpu);

    /* Size the loop to about seconds_per_trial from a short calibration run. */
    long iterations = 1000000;
    double t0 = now();
    w->sink += fma_loop(iterations, (float)w->cpu);
    double dt = now() - t0;
    iterations = (long)(iterations * seconds_per_trial / (dt > 1e-6 ? dt : 1e-6));
    if (iterations < 1) iterations = 1;

    for (int trial = 0; trial < TRIALS; trial++) {
        pthread_barrier_wait(&start_barrier);
        t0 = now();
        w->sink += fma_loop(iterations, (float)trial);
        dt = now() - t0;
        double gflops = 2.0 * LANES * ACCUMULATORS * (double)iterations / dt / 1e9;
        if (gflops > w->best_gflops) w->best_gflops = gflops;
    }
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (argc > 2) seconds_per_trial = atof(argv[2]);
    if (threads < 1 || seconds_per_trial <= 0) {
        fprintf(stderr, "usage: %s [threads >= 1] [seconds per trial > 0]\n", argv[0]);
        return 2;
    }
    worker *w = calloc(threads, sizeof *w);
    pthread_t *tid = calloc(threads, sizeof *tid);
    pthread_barrier_init(&start_barrier, NULL, threads);
    for (int i = 0; i < threads; i++) {
        w[i].cpu = i;
        pthread_create(&tid[i], NULL, run, &w[i]);
    }
    double total = 0;
    float sink = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        printf("cpu %d: %.1f GFLOP/s\n", w[i].cpu, w[i].best_gflops);
        total += w[i].best_gflops;
        sink += w[i].sink;
    }
    printf("total: %.1f GFLOP/s FP32 FMA peak on %d thread(s), %d-wide (best of %d trials; sink %g)\n",
           total, threads, LANES, TRIALS, sink);
    free(w);
    free(tid);
    return 0;
}
