/* The benchmark's reference for the kernel: the very algorithm of Sources/CSumKernels (Σ m² with
 * m = h·2³² + l, l² kept as two 32-bit halves in 64-bit lane sums), compiled for this machine
 * alone with clang -O3 -march=native: what the hardware can do with it, no dispatch, no Swift.
 * Build: clang -O3 -march=native -pthread -I../../CSumKernels/include sum_squares_split.c
 * Usage: sum_squares_split LO HI THREADS [ifma] (0 <= LO <= HI)  ->  prints "SECONDS TOTAL_LOW64"
 * With "ifma", the IFMA variant's algorithm (m = h·2²⁶ + l, vpmadd52luq, four accumulators): the
 * fastest exact way to visit every element this project knows, where the CPU has it. */
#include "../../CSumKernels/sum_kernels.c"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct { uint64_t lo, hi, low, high; int ifma; } slice_t;

static void *run_slice(void *arg) {
    slice_t *slice = arg;
    /* The baseline variant, which -march=native compiles for this very CPU; or the IFMA one. */
    ct_sum_squared_magnitudes(slice->ifma ? CT_KERNEL_IFMA : CT_KERNEL_BASELINE, slice->lo, slice->hi, 0,
                              &slice->low, &slice->high);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) { fprintf(stderr, "usage: %s LO HI THREADS [ifma]\n", argv[0]); return 64; }
    int ifma = argc == 5 && argv[4][0] == 'i';
    if (ifma && !ct_kernel_supported(CT_KERNEL_IFMA)) { fprintf(stderr, "no AVX-512 IFMA here\n"); return 69; }
    long long lo = atoll(argv[1]), hi = atoll(argv[2]);
    int threads = atoi(argv[3]);
    if (threads < 1 || threads > 256 || lo < 0 || lo > hi) { fprintf(stderr, "bad arguments\n"); return 64; }
    slice_t slices[256];
    pthread_t ids[256];
    uint64_t count = (uint64_t)(hi - lo) + 1;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < threads; i++) {
        slices[i].lo = (uint64_t)lo + count * i / threads;
        slices[i].hi = (uint64_t)lo + count * (i + 1) / threads - 1;
        slices[i].ifma = ifma;
        pthread_create(&ids[i], NULL, run_slice, &slices[i]);
    }
    unsigned __int128 total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(ids[i], NULL);
        total += ((unsigned __int128)slices[i].high << 64) | slices[i].low;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
    printf("%.6f %llu\n", seconds, (unsigned long long)total);
    return 0;
}
