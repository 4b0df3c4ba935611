#ifndef CLUSTER_TOP_SUM_KERNELS_H
#define CLUSTER_TOP_SUM_KERNELS_H

#include <stdint.h>

/// The kernel variants, one per instruction set. Each is the same algorithm (see sum_kernels.c);
/// only the vector width the compiler may use differs.
typedef enum {
    /// One element at a time: vectorization turned off. The yardstick for the others.
    CT_KERNEL_SCALAR = 0,
    /// The baseline of the build's architecture: SSE2 on x86-64, NEON on arm64.
    CT_KERNEL_BASELINE = 1,
    /// x86-64 with AVX2 (256-bit vectors).
    CT_KERNEL_AVX2 = 2,
    /// x86-64 with AVX-512 F, BW, DQ and VL (512-bit vectors).
    CT_KERNEL_AVX512 = 3,
    /// x86-64 with AVX-512 IFMA: a 52-bit multiply-add squares eight low words at once.
    CT_KERNEL_IFMA = 4,
} ct_kernel_variant;

/// Whether this CPU can run `variant`.
int ct_kernel_supported(ct_kernel_variant variant);

/// Σ m² for m in first...last (first <= last), all below 2⁴⁴, with `variant`, which must be
/// supported. The lane sums are flushed into the total every `flush_interval` elements (at most
/// 2³⁰, the most that cannot wrap; tests use tiny ones). The 128-bit result is returned as its
/// low and high 64-bit words.
void ct_sum_squared_magnitudes(ct_kernel_variant variant, uint64_t first, uint64_t last,
                               uint64_t flush_interval, uint64_t *low, uint64_t *high);

#endif
