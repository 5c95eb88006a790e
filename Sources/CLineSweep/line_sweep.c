#define _GNU_SOURCE 1 /* memrchr */
#include "CLineSweep.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* The time is computed exactly as in Swift: no fused multiply-add. */
#pragma STDC FP_CONTRACT OFF

static int days_in_month(int64_t y, int64_t m) {
    switch (m) {
    case 2: return ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : 28;
    case 4: case 6: case 9: case 11: return 30;
    default: return 31;
    }
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm), with Swift's
   truncating integer division, as `Timestamps.daysFromCivil`. */
static int64_t days_from_civil(int64_t y0, int64_t m, int64_t d) {
    int64_t y = m <= 2 ? y0 - 1 : y0;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (m + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int number(const uint8_t *b, int from, int len, int64_t *out) {
    int64_t v = 0;
    for (int i = from; i < from + len; i++) {
        uint8_t c = b[i];
        if (c < '0' || c > '9') return 0;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return 1;
}

/* The place values of fraction digits exactly as Swift's loop makes them (0.1, then divided by
   10 for each further digit), folded by the compiler: no division per digit. */
static const double fraction_scale[21] = {
    0.1,
    (0.1) / 10,
    ((0.1) / 10) / 10,
    (((0.1) / 10) / 10) / 10,
    ((((0.1) / 10) / 10) / 10) / 10,
    (((((0.1) / 10) / 10) / 10) / 10) / 10,
    ((((((0.1) / 10) / 10) / 10) / 10) / 10) / 10,
    (((((((0.1) / 10) / 10) / 10) / 10) / 10) / 10) / 10,
    ((((((((0.1) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10,
    (((((((((0.1) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10,
    ((((((((((0.1) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10,
    (((((((((((0.1) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10,
    ((((((((((((0.1) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10,
    (((((((((((((0.1) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10,
    ((((((((((((((0.1) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10,
    (((((((((((((((0.1) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10,
    ((((((((((((((((0.1) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10,
    (((((((((((((((((0.1) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10,
    ((((((((((((((((((0.1) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10,
    (((((((((((((((((((0.1) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10,
    ((((((((((((((((((((0.1) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10) / 10
};

/* The date part of the last time read by a sweep (bytes 0..<10), when it was a valid date. */
typedef struct {
    int valid;
    uint8_t date[10];
    int64_t days;
} ic_date_cache;

/* As `Timestamps.parse(bytes:)`; `cache` (may be NULL) saves reading the same date again. */
static int parse_time(const uint8_t *b, intptr_t count, double *seconds, ic_date_cache *cache) {
    intptr_t n = count < 40 ? count : 40;
    if (n < 19) return 0;
    if (b[10] != 'T' && b[10] != ' ') return 0;
    int64_t days;
    if (cache && cache->valid && memcmp(cache->date, b, 10) == 0) {
        days = cache->days;
    } else {
        int64_t y, mo, d;
        if (b[4] != '-' || b[7] != '-' || !number(b, 0, 4, &y) || !number(b, 5, 2, &mo) || !number(b, 8, 2, &d)) return 0;
        if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return 0;
        days = days_from_civil(y, mo, d);
        if (cache) {
            memcpy(cache->date, b, 10);
            cache->days = days;
            cache->valid = 1;
        }
    }
    int64_t h, mi, se;
    if (b[13] != ':' || b[16] != ':' || !number(b, 11, 2, &h) || !number(b, 14, 2, &mi) || !number(b, 17, 2, &se)) return 0;
    /* A 60th second only as a leap second, 23:59:60 (read as the next day's 00:00:00). */
    if (h >= 24 || mi >= 60 || se > 60 || (se == 60 && (h != 23 || mi != 59))) return 0;
    double fraction = 0.0;
    intptr_t i = 19;
    if (i < n && b[i] == '.') {
        i++;
        /* At most 20 digits fit in the 40 bytes read (the 21st place value is never used). */
        int place = 0;
        while (i < n && b[i] >= '0' && b[i] <= '9') {
            double term = (double)(b[i] - '0') * fraction_scale[place];
            fraction += term;
            place++;
            i++;
        }
    }
    if (i < n && b[i] != 'Z' && b[i] != ' ') return 0;
    double whole = (double)days * 86400;
    whole += (double)(h * 3600 + mi * 60 + se);
    *seconds = whole + fraction;
    return 1;
}

intptr_t ic_last_lf(const uint8_t *bytes, intptr_t count) {
    if (count <= 0) return -1;
    const uint8_t *at = memrchr(bytes, '\n', (size_t)count);
    return at ? at - bytes : -1;
}

int ic_parse_time(const uint8_t *b, intptr_t count, double *seconds) {
    return parse_time(b, count, seconds, NULL);
}

/* Shared by both builds of the sweep. */
static int has_slash_one(const uint8_t *p, intptr_t from, intptr_t to) {
    for (intptr_t i = from; i + 1 < to; i++) {
        if (p[i] == '/' && p[i + 1] == '1') return 1;
    }
    return 0;
}

/* As `BuildEvidence.versionFolder`: the build a request path `p[from..<to)` that holds "/1" shows
   in its first four segments (the first that starts with "15." or "14." and reads as 3 or 4
   numbers of 1 to 6 digits, the third above 0). Returns 0 (none), 1 (a build, in `build`) or
   2 (bytes not decided here: Swift decides). */
static int version_folder(const uint8_t *p, intptr_t from, intptr_t to, int64_t build[3]) {
    int segments = 0;
    intptr_t i = from;
    while (i < to && segments < 4) {
        while (i < to && p[i] == '/') i++;
        if (i >= to) break;
        intptr_t f = i;
        while (i < to && p[i] != '/') i++;
        segments++;
        if (i - f < 3 || p[f] != '1' || (p[f + 1] != '5' && p[f + 1] != '4') || p[f + 2] != '.') continue;
        int parts = 0, digits = 0, valid = 1;
        int64_t first = 0, second = 0, third = 0, value = 0;
        for (intptr_t k = f; k < i; k++) {
            uint8_t c = p[k];
            if (c == '.') {
                if (digits == 0 || digits > 6) valid = 0;
                if (parts == 0) first = value; else if (parts == 1) second = value; else if (parts == 2) third = value;
                parts++;
                digits = 0;
                value = 0;
            } else if (c >= '0' && c <= '9') {
                digits++;
                if (digits <= 6) value = value * 10 + (c - '0');
            } else {
                return 2;
            }
        }
        if (digits == 0 || digits > 6) valid = 0;
        if (parts == 2) third = value;
        parts++;
        if (!valid || (parts != 3 && parts != 4) || third <= 0) continue;
        build[0] = first;
        build[1] = second;
        build[2] = third;
        return 1;
    }
    return 0;
}

/* Whether a build shown by a line may raise the file's build (see `BuildEvidence.mayRaise`). */
static int raises(const int64_t shown[3], const int64_t file[3]) {
    if (file[0] < 0) return 1;
    if (shown[0] != file[0]) return shown[0] > file[0];
    if (shown[1] != file[1]) return shown[1] > file[1];
    return shown[2] > file[2];
}

/* A version column's number: -2 for a byte other than a digit, -1 when empty or over 6 digits
   (as `BuildEvidence.versionColumns`). */
static int64_t version_number(const uint8_t *p, intptr_t from, intptr_t to) {
    int64_t v = 0;
    for (intptr_t i = from; i < to; i++) {
        uint8_t c = p[i];
        if (c < '0' || c > '9') return -2;
        v = v * 10 + (c - '0');
    }
    return (to == from || to - from > 6) ? -1 : v;
}

/* Up to this many separator positions are noted per line; columns past them are found by a walk. */
#define IC_NOTED 48

/* The sweep, built once per instruction set: 32-byte AVX2 blocks where the processor has them
   (chosen at run time), 16-byte SSE2 blocks otherwise, 8 bytes at a time elsewhere. */
#if defined(__x86_64__)
#define IC_NAME(n) n##_avx2
#define IC_ATTR __attribute__((target("avx2,popcnt,bmi,bmi2")))
#define IC_BLOCK 32
#define IC_AVX2 1
#include "sweep_impl.h"
#undef IC_NAME
#undef IC_ATTR
#undef IC_BLOCK
#undef IC_AVX2
#define IC_NAME(n) n##_sse2
#define IC_ATTR
#define IC_BLOCK 16
#define IC_SSE2 1
#include "sweep_impl.h"

intptr_t ic_sweep(const uint8_t *base, intptr_t start, intptr_t end,
                  const intptr_t *candidateEnds, intptr_t candidateCount, intptr_t *candidateIndex,
                  const ic_sweep_layout *layout, ic_sweep_totals *totals) {
    /* A few loads and tests per call (no cached flag shared between scan threads). */
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("bmi2");
    return avx2 ? sweep_avx2(base, start, end, candidateEnds, candidateCount, candidateIndex, layout, totals)
                : sweep_sse2(base, start, end, candidateEnds, candidateCount, candidateIndex, layout, totals);
}

intptr_t ic_sweep_baseline(const uint8_t *base, intptr_t start, intptr_t end,
                           const intptr_t *candidateEnds, intptr_t candidateCount, intptr_t *candidateIndex,
                           const ic_sweep_layout *layout, ic_sweep_totals *totals) {
    return sweep_sse2(base, start, end, candidateEnds, candidateCount, candidateIndex, layout, totals);
}
#else
#define IC_NAME(n) n##_generic
#define IC_ATTR
#define IC_BLOCK 8
#include "sweep_impl.h"

intptr_t ic_sweep(const uint8_t *base, intptr_t start, intptr_t end,
                  const intptr_t *candidateEnds, intptr_t candidateCount, intptr_t *candidateIndex,
                  const ic_sweep_layout *layout, ic_sweep_totals *totals) {
    return sweep_generic(base, start, end, candidateEnds, candidateCount, candidateIndex, layout, totals);
}

intptr_t ic_sweep_baseline(const uint8_t *base, intptr_t start, intptr_t end,
                           const intptr_t *candidateEnds, intptr_t candidateCount, intptr_t *candidateIndex,
                           const ic_sweep_layout *layout, ic_sweep_totals *totals) {
    return sweep_generic(base, start, end, candidateEnds, candidateCount, candidateIndex, layout, totals);
}
#endif
