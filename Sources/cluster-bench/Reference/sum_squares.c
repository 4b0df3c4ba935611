/* The benchmark's baseline: Σ x² over [lo, hi] in plain C with 128-bit accumulation, on T threads.
 *
 * Build: clang -O3 -march=native -mllvm -replexitval=never -pthread sum_squares.c
 * Without -replexitval=never clang replaces this loop by the closed form n(n+1)(2n+1)/6 and
 * "runs" at millions of G/s; the flag keeps it a real loop (still unrolled and vectorized).
 * Usage: sum_squares LO HI THREADS  ->  prints "SECONDS TOTAL_LOW64" */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct { int64_t lo, hi; unsigned __int128 sum; } slice_t;

static unsigned __int128 sum_squares(int64_t lo, int64_t hi) {
    unsigned __int128 acc = 0;
    for (int64_t x = lo; x <= hi; x++) acc += (unsigned __int128)((__int128)x * x);
    return acc;
}

static void *run_slice(void *arg) {
    slice_t *slice = arg;
    slice->sum = sum_squares(slice->lo, slice->hi);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s LO HI THREADS\n", argv[0]); return 64; }
    int64_t lo = atoll(argv[1]), hi = atoll(argv[2]);
    int threads = atoi(argv[3]);
    if (threads < 1 || threads > 256 || lo > hi) { fprintf(stderr, "bad arguments\n"); return 64; }
    slice_t slices[256];
    pthread_t ids[256];
    int64_t count = hi - lo + 1;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < threads; i++) {
        slices[i].lo = lo + count * i / threads;
        slices[i].hi = lo + count * (i + 1) / threads - 1;
        pthread_create(&ids[i], NULL, run_slice, &slices[i]);
    }
    unsigned __int128 total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(ids[i], NULL);
        total += slices[i].sum;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
    printf("%.6f %llu\n", seconds, (unsigned long long)total);
    return 0;
}
