// Σ m² over a range, exact, in one function per instruction set, chosen at run time.
//
// Swift cannot compile one function for AVX-512 and another for the x86-64 baseline in the same
// module (-target-cpu is per module, and a whole module built for AVX-512 would crash on older
// CPUs), so the variants live here, each a copy of the same loop under clang's target attribute,
// and the caller picks one after asking the CPU (__builtin_cpu_supports).
//
// The algorithm: write m = h·2³² + l. Inside one 2³²-aligned window h is constant and
// m² = l² + 2·h·l·2³² + h²·2⁶⁴. The loop visits every element and squares its low word l
// (a 32×32→64 multiply, one instruction per vector: pmuludq); l² is kept as two 32-bit halves
// so that plain 64-bit lane additions never carry, and Σl beside them. Every 2³⁰ elements the
// lane sums are flushed into a 128-bit total, before any of them can wrap. Accepted ranges keep
// h below 2¹², so every term fits.
#include "sum_kernels.h"

typedef unsigned __int128 u128;

/// The lane sums of one block of at most 2³⁰ elements of one window.
typedef struct { uint64_t low_halves, high_halves, low_words; } block_sums;

#define FLUSH_INTERVAL ((uint64_t)1 << 30)

// The loop body, inlined into each variant so that it is compiled for that variant's target.
// `count` elements from the low word `first`.
#define BLOCK_LOOP(first, count, sums)                                   \
    do {                                                                 \
        uint64_t low_halves = 0, high_halves = 0, low_words = 0;         \
        for (uint64_t i = 0; i < (count); i++) {                         \
            uint64_t l = (uint32_t)((first) + i);                        \
            uint64_t square = l * l;                                     \
            low_halves += square & 0xffffffffu;                          \
            high_halves += square >> 32;                                 \
            low_words += l;                                              \
        }                                                                \
        (sums).low_halves = low_halves;                                  \
        (sums).high_halves = high_halves;                                \
        (sums).low_words = low_words;                                    \
    } while (0)

static block_sums block_scalar(uint64_t first, uint64_t count) {
    block_sums sums;
    uint64_t low_halves = 0, high_halves = 0, low_words = 0;
#pragma clang loop vectorize(disable) interleave(disable) unroll(disable)
    for (uint64_t i = 0; i < count; i++) {
        uint64_t l = (uint32_t)(first + i);
        uint64_t square = l * l;
        low_halves += square & 0xffffffffu;
        high_halves += square >> 32;
        low_words += l;
    }
    sums.low_halves = low_halves;
    sums.high_halves = high_halves;
    sums.low_words = low_words;
    return sums;
}

static block_sums block_baseline(uint64_t first, uint64_t count) {
    block_sums sums;
    BLOCK_LOOP(first, count, sums);
    return sums;
}

#if defined(__x86_64__)
__attribute__((target("avx2")))
static block_sums block_avx2(uint64_t first, uint64_t count) {
    block_sums sums;
    BLOCK_LOOP(first, count, sums);
    return sums;
}

// min_vector_width: clang otherwise keeps to 256-bit vectors even where AVX-512 is allowed.
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl"), min_vector_width(512)))
static block_sums block_avx512(uint64_t first, uint64_t count) {
    block_sums sums;
    BLOCK_LOOP(first, count, sums);
    return sums;
}
#endif

#if defined(__x86_64__)
#include <immintrin.h>

// The IFMA variant: another split, m = h·2²⁶ + l. Inside one 2²⁶-aligned window l² < 2⁵², so
// one vpmadd52luq squares eight low words and adds them to eight 64-bit lane sums, whole, with
// no halves. A lane takes 4,096 such additions before it could wrap (4,096·2⁵² = 2⁶⁴), so the
// lane sums go into the 128-bit total every 4,096 steps. Four independent accumulators hide
// the instruction's latency. Every element is still visited and squared; Σl is summed beside.
#define IFMA_WINDOW_BITS 26
#define IFMA_LANES 8
#define IFMA_ACCUMULATORS 4
#define IFMA_STEP (IFMA_LANES * IFMA_ACCUMULATORS)
#define IFMA_STEPS_PER_FLUSH 4096

/// Σl² (exact, 128-bit) and Σl of `count` low words from `first` (all below 2²⁶).
__attribute__((target("avx512f,avx512ifma"), min_vector_width(512)))
static void block_ifma(uint64_t first, uint64_t count, u128 *squares, uint64_t *words) {
    uint64_t l = first, left = count;
    const __m512i step = _mm512_set1_epi64(IFMA_STEP);
    const __m512i offsets = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i low_half = _mm512_set1_epi64(0xffffffff);
    // Each flush's lane sums, split into 32-bit halves and added up in vectors: per flush a
    // lane half is below 2³⁴, so these hold any number of flushes a window can have, and the
    // 128-bit total is formed once, not lane by lane (that tail was a tenth of a 4 Ki chunk).
    __m512i low_halves = _mm512_setzero_si512(), high_halves = low_halves, word_sums = low_halves;
    while (left >= IFMA_STEP) {
        uint64_t steps = left / IFMA_STEP;
        if (steps > IFMA_STEPS_PER_FLUSH) steps = IFMA_STEPS_PER_FLUSH;
        __m512i v0 = _mm512_add_epi64(_mm512_set1_epi64((long long)l), offsets);
        __m512i v1 = _mm512_add_epi64(v0, _mm512_set1_epi64(8));
        __m512i v2 = _mm512_add_epi64(v0, _mm512_set1_epi64(16));
        __m512i v3 = _mm512_add_epi64(v0, _mm512_set1_epi64(24));
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
        __m512i w0 = a0, w1 = a0;
        for (uint64_t i = 0; i < steps; i++) {
            a0 = _mm512_madd52lo_epu64(a0, v0, v0);
            a1 = _mm512_madd52lo_epu64(a1, v1, v1);
            a2 = _mm512_madd52lo_epu64(a2, v2, v2);
            a3 = _mm512_madd52lo_epu64(a3, v3, v3);
            w0 = _mm512_add_epi64(w0, _mm512_add_epi64(v0, v1));
            w1 = _mm512_add_epi64(w1, _mm512_add_epi64(v2, v3));
            v0 = _mm512_add_epi64(v0, step);
            v1 = _mm512_add_epi64(v1, step);
            v2 = _mm512_add_epi64(v2, step);
            v3 = _mm512_add_epi64(v3, step);
        }
        // Each lane below 2⁶⁴; its halves below 2³², four of them below 2³⁴.
        low_halves = _mm512_add_epi64(low_halves, _mm512_add_epi64(
            _mm512_add_epi64(_mm512_and_si512(a0, low_half), _mm512_and_si512(a1, low_half)),
            _mm512_add_epi64(_mm512_and_si512(a2, low_half), _mm512_and_si512(a3, low_half))));
        high_halves = _mm512_add_epi64(high_halves, _mm512_add_epi64(
            _mm512_add_epi64(_mm512_srli_epi64(a0, 32), _mm512_srli_epi64(a1, 32)),
            _mm512_add_epi64(_mm512_srli_epi64(a2, 32), _mm512_srli_epi64(a3, 32))));
        word_sums = _mm512_add_epi64(word_sums, _mm512_add_epi64(w0, w1));
        l += steps * IFMA_STEP;
        left -= steps * IFMA_STEP;
    }
    // A window holds at most 2²⁶ elements, 2⁹ flushes of 2¹⁷: each lane half stays below 2⁴³
    // and the eight lanes' sum below 2⁴⁶ (Σl below 2⁵²).
    u128 total = (u128)(uint64_t)_mm512_reduce_add_epi64(low_halves)
        + ((u128)(uint64_t)_mm512_reduce_add_epi64(high_halves) << 32);
    uint64_t word_total = (uint64_t)_mm512_reduce_add_epi64(word_sums);
    for (; left > 0; left--, l++) {
        total += (u128)(l * l);
        word_total += l;
    }
    *squares = total;
    *words = word_total;
}

static void sum_ifma(uint64_t first, uint64_t last, uint64_t flush_interval, uint64_t *low, uint64_t *high) {
    const uint64_t window_mask = ((uint64_t)1 << IFMA_WINDOW_BITS) - 1;
    u128 total = 0;
    uint64_t m = first;
    for (;;) {
        uint64_t h = m >> IFMA_WINDOW_BITS;
        uint64_t window_last = h == last >> IFMA_WINDOW_BITS ? last : (h << IFMA_WINDOW_BITS) | window_mask;
        uint64_t block_last = window_last - m < flush_interval ? window_last : m + flush_interval - 1;
        uint64_t count = block_last - m + 1;
        u128 squares;
        uint64_t words;
        block_ifma(m & window_mask, count, &squares, &words);
        total += squares;
        if (h != 0) {
            total += ((u128)h * words) << (IFMA_WINDOW_BITS + 1);            // 2·h·Σl·2²⁶
            total += ((u128)count * h * h) << (2 * IFMA_WINDOW_BITS);        // Σ h²·2⁵²
        }
        if (block_last == last) break;
        m = block_last + 1;
    }
    *low = (uint64_t)total;
    *high = (uint64_t)(total >> 64);
}
#endif

int ct_kernel_supported(ct_kernel_variant variant) {
    switch (variant) {
    case CT_KERNEL_SCALAR:
    case CT_KERNEL_BASELINE:
        return 1;
#if defined(__x86_64__)
    case CT_KERNEL_AVX2:
        return __builtin_cpu_supports("avx2");
    case CT_KERNEL_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    case CT_KERNEL_IFMA:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512ifma");
#endif
    default:
        return 0;
    }
}

static block_sums block(ct_kernel_variant variant, uint64_t first, uint64_t count) {
    switch (variant) {
#if defined(__x86_64__)
    case CT_KERNEL_AVX512: return block_avx512(first, count);
    case CT_KERNEL_AVX2: return block_avx2(first, count);
#endif
    case CT_KERNEL_BASELINE: return block_baseline(first, count);
    default: return block_scalar(first, count);
    }
}

void ct_sum_squared_magnitudes(ct_kernel_variant variant, uint64_t first, uint64_t last,
                               uint64_t flush_interval, uint64_t *low, uint64_t *high) {
    if (flush_interval == 0 || flush_interval > FLUSH_INTERVAL) flush_interval = FLUSH_INTERVAL;
#if defined(__x86_64__)
    if (variant == CT_KERNEL_IFMA) {
        sum_ifma(first, last, flush_interval, low, high);
        return;
    }
#endif
    u128 total = 0;
    uint64_t m = first;
    for (;;) {
        uint64_t h = m >> 32;
        uint64_t window_last = h == last >> 32 ? last : (h << 32) | 0xffffffffu;
        uint64_t block_last = window_last - m < flush_interval ? window_last : m + flush_interval - 1;
        uint64_t count = block_last - m + 1;
        block_sums sums = block(variant, m & 0xffffffffu, count);
        total += (u128)sums.low_halves + ((u128)sums.high_halves << 32);
        if (h != 0) {
            total += ((u128)h * sums.low_words) << 33;   // 2·h·Σl·2³²
            total += ((u128)count * h * h) << 64;        // Σ h²·2⁶⁴
        }
        if (block_last == last) break;
        m = block_last + 1;
    }
    *low = (uint64_t)total;
    *high = (uint64_t)(total >> 64);
}
