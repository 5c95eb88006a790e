/* One build of the sweep (included by line_sweep.c with IC_NAME, IC_ATTR and IC_BLOCK set). */

/* Bit masks of the IC_BLOCK bytes at `p`: bytes equal to a, to b, to c, and bytes >= 0x80. */
IC_ATTR static inline void IC_NAME(masks)(const uint8_t *p, uint8_t a, uint8_t b, uint8_t c,
                                          uint32_t *ma, uint32_t *mb, uint32_t *mc, uint32_t *high) {
#if defined(IC_AVX2)
    __m256i v = _mm256_loadu_si256((const __m256i *)p);
    *ma = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8((char)a)));
    *mb = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8((char)b)));
    *mc = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8((char)c)));
    *high = (uint32_t)_mm256_movemask_epi8(v);
#elif defined(IC_SSE2)
    __m128i v = _mm_loadu_si128((const __m128i *)p);
    *ma = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)a)));
    *mb = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)b)));
    *mc = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)c)));
    *high = (uint32_t)_mm_movemask_epi8(v);
#else
    uint32_t x = 0, y = 0, z = 0, h = 0;
    for (int i = 0; i < IC_BLOCK; i++) {
        x |= (uint32_t)(p[i] == a) << i;
        y |= (uint32_t)(p[i] == b) << i;
        z |= (uint32_t)(p[i] == c) << i;
        h |= (uint32_t)(p[i] >> 7) << i;
    }
    *ma = x; *mb = y; *mc = z; *high = h;
#endif
}

/* Whether `p[from..<to)` holds "/1"; `safe` bytes from `p` may be read. */
IC_ATTR static inline int IC_NAME(slash_one)(const uint8_t *p, intptr_t from, intptr_t to, intptr_t safe) {
#if defined(IC_AVX2) || defined(IC_SSE2)
    intptr_t i = from;
    /* Pairs starting in the first IC_BLOCK - 1 bytes of each block; the next block starts at the last. */
    while (i + 1 < to && i + IC_BLOCK <= safe) {
        uint32_t slash, one, unused, high;
        IC_NAME(masks)(p + i, '/', '1', '/', &slash, &one, &unused, &high);
        intptr_t pairs = to - i - 1; /* pairs (j, j+1) with j + 1 < to - i */
        if (pairs > IC_BLOCK - 1) pairs = IC_BLOCK - 1;
        if (slash & (one >> 1) & ((1u << pairs) - 1)) return 1;
        i += IC_BLOCK - 1;
    }
    return has_slash_one(p, i, to);
#else
    (void)safe;
    return has_slash_one(p, from, to);
#endif
}

/* Whether a request path with "/1" may raise the file's build (or is not decided here). */
IC_ATTR static inline int IC_NAME(folder_raises)(const uint8_t *p, intptr_t from, intptr_t to, const ic_sweep_layout *L) {
    int64_t shown[3];
    switch (version_folder(p, from, to, shown)) {
    case 0: return 0;
    case 1: return raises(shown, L->fileBuild);
    default: return 1;
    }
}

/* The low `n` bits (n in 1...IC_BLOCK). */
IC_ATTR static inline uint32_t IC_NAME(low_bits)(intptr_t n) {
    return n >= 32 ? 0xFFFFFFFFu : ((1u << n) - 1);
}

/* CSV: no quote, CR or byte >= 0x80 in `p[0..<len)`; returns the number of commas (or -1) and
   notes the first `limit` (at most IC_NOTED) comma offsets. `safe` bytes from `p` may be read. */
IC_ATTR static intptr_t IC_NAME(csv_shape)(const uint8_t *p, intptr_t len, intptr_t safe, intptr_t *commas, int limit) {
    intptr_t count = 0, i = 0;
    for (; i + IC_BLOCK <= safe && i < len; i += IC_BLOCK) {
        uint32_t comma, quote, cr, high;
        IC_NAME(masks)(p + i, ',', '"', '\r', &comma, &quote, &cr, &high);
        uint32_t keep = IC_NAME(low_bits)(len - i < IC_BLOCK ? len - i : IC_BLOCK);
        if ((quote | cr | high) & keep) return -1;
        comma &= keep;
        while (comma && count < limit) {
            commas[count++] = i + __builtin_ctz(comma);
            comma &= comma - 1;
        }
        count += __builtin_popcount(comma);
    }
    for (; i < len; i++) {
        uint8_t c = p[i];
        if (c >= 0x80 || c == '"' || c == '\r') return -1;
        if (c == ',') {
            if (count < limit) commas[count] = i;
            count++;
        }
    }
    return count;
}

/* W3C: no CR or byte >= 0x80 in `p[0..<len)`; returns the number of tokens (runs of bytes other
   than space and tab), or -1. Notes the first `limit` (at most IC_NOTED) token starts and starts
   of separator runs after a token (a run at the line start is not one). */
IC_ATTR static intptr_t IC_NAME(w3c_shape)(const uint8_t *p, intptr_t len, intptr_t safe,
                                           intptr_t *starts, intptr_t *gaps, intptr_t *gapCount, int limit) {
    intptr_t count = 0, gapsSeen = 0, i = 0;
    uint32_t previous = 1; /* the line start counts as a separator */
    for (; i + IC_BLOCK <= safe && i < len; i += IC_BLOCK) {
        uint32_t space, tab, cr, high;
        IC_NAME(masks)(p + i, ' ', '\t', '\r', &space, &tab, &cr, &high);
        uint32_t keep = IC_NAME(low_bits)(len - i < IC_BLOCK ? len - i : IC_BLOCK);
        if ((cr | high) & keep) return -1;
        uint32_t sep = (space | tab) & keep;
        uint32_t tokenStarts = ~sep & keep & ((sep << 1) | previous);
        uint32_t gapStarts = sep & ~((sep << 1) | previous);
        while (tokenStarts && count < limit) {
            starts[count++] = i + __builtin_ctz(tokenStarts);
            tokenStarts &= tokenStarts - 1;
        }
        count += __builtin_popcount(tokenStarts);
        while (gapStarts && gapsSeen < limit) {
            gaps[gapsSeen++] = i + __builtin_ctz(gapStarts);
            gapStarts &= gapStarts - 1;
        }
        gapsSeen += __builtin_popcount(gapStarts);
        previous = (sep >> (IC_BLOCK - 1)) & 1;
    }
    int was = previous != 0;
    for (; i < len; i++) {
        uint8_t c = p[i];
        if (c >= 0x80 || c == '\r') return -1;
        int sep = c == ' ' || c == '\t';
        if (!sep && was) {
            if (count < limit) starts[count] = i;
            count++;
        }
        if (sep && !was) {
            if (gapsSeen < limit) gaps[gapsSeen] = i;
            gapsSeen++;
        }
        was = sep;
    }
    *gapCount = gapsSeen;
    return count;
}

/* The range of CSV column `column` (0-based, at most `count`) of a line with `count` commas,
   the first `limit` of them (all, if fewer) noted in `commas`. */
IC_ATTR static void IC_NAME(csv_field)(const uint8_t *p, intptr_t len, const intptr_t *commas, intptr_t count,
                                       int limit, int column, intptr_t *from, intptr_t *to) {
    if (column < limit) {
        *from = column == 0 ? 0 : commas[column - 1] + 1;
        *to = column < count ? commas[column] : len;
        return;
    }
    /* Past the noted commas: walk. */
    intptr_t f = limit > 0 ? commas[limit - 1] + 1 : 0;
    for (int k = limit; k < column; k++) {
        const uint8_t *at = memchr(p + f, ',', (size_t)(len - f));
        f = at - p + 1;
    }
    const uint8_t *at = memchr(p + f, ',', (size_t)(len - f));
    *from = f;
    *to = at ? at - p : len;
}

/* Returns 1 and the line's time when the line is accepted, 0 when Swift must see it. */
IC_ATTR static int IC_NAME(csv_line)(const uint8_t *p, intptr_t len, intptr_t safe, const ic_sweep_layout *L,
                                     int *hasTime, double *time, ic_date_cache *cache) {
    intptr_t commas[IC_NOTED];
    int limit = L->versionColumns[0];
    if (L->versionColumns[1] > limit) limit = L->versionColumns[1];
    if (L->versionColumns[2] > limit) limit = L->versionColumns[2];
    if (L->stemColumn > limit) limit = L->stemColumn;
    if (L->timeColumn > limit) limit = L->timeColumn;
    limit = limit < 0 ? 1 : (limit + 1 > IC_NOTED ? IC_NOTED : limit + 1);
    intptr_t count = IC_NAME(csv_shape)(p, len, safe, commas, limit);
    if (count < 0 || count + 1 != L->fields) return 0;
    /* A first value short enough to be the header's first name: Swift decides. */
    intptr_t firstEnd = count > 0 ? commas[0] : len;
    if (firstEnd <= (intptr_t)L->headLength + 8) return 0;
    if (L->checkBuild) {
        int decided = 0;
        if (L->versionColumns[0] >= 0) {
            int64_t v[3];
            for (int k = 0; k < 3; k++) {
                intptr_t f, t;
                IC_NAME(csv_field)(p, len, commas, count, limit, L->versionColumns[k], &f, &t);
                v[k] = version_number(p, f, t);
                if (v[k] == -2) return 0;
            }
            if (v[0] >= 0 && v[1] >= 0 && v[2] > 0 && (v[0] == 14 || v[0] == 15)) {
                /* The line shows a build: it may raise the file's unless at or below it. */
                if (raises(v, L->fileBuild)) return 0;
                decided = 1;
            }
        }
        if (!decided) {
            if (L->hasBLD) return 0;
            if (L->stemColumn >= 0) {
                intptr_t f, t;
                IC_NAME(csv_field)(p, len, commas, count, limit, L->stemColumn, &f, &t);
                if (IC_NAME(slash_one)(p, f, t, safe) && IC_NAME(folder_raises)(p, f, t, L)) return 0;
            }
        }
    }
    *hasTime = 0;
    if (L->timeColumn >= 0) {
        intptr_t f, t;
        IC_NAME(csv_field)(p, len, commas, count, limit, L->timeColumn, &f, &t);
        *hasTime = parse_time(p + f, t - f, time, cache);
    }
    return 1;
}

/* The range of W3C token `column` (0-based, below `count`). */
IC_ATTR static void IC_NAME(w3c_token)(const uint8_t *p, intptr_t len, const intptr_t *starts, const intptr_t *gaps,
                                       intptr_t gapCount, int limit, int column, intptr_t *from, intptr_t *to) {
    if (column < limit) {
        /* Tokens and separator runs alternate; a leading run is not noted, so token k ends where
           the k-th noted run starts (or at the line end). */
        intptr_t i = starts[column];
        *from = i;
        if (column >= gapCount) {
            *to = len;
        } else {
            *to = gaps[column];
        }
        return;
    }
    intptr_t index = -1, i = 0;
    while (i < len) {
        while (i < len && (p[i] == ' ' || p[i] == '\t')) i++;
        if (i >= len) break;
        index++;
        intptr_t f = i;
        while (i < len && p[i] != ' ' && p[i] != '\t') i++;
        if (index == column) { *from = f; *to = i; return; }
    }
    *from = 0;
    *to = 0;
}

IC_ATTR static int IC_NAME(w3c_line)(const uint8_t *p, intptr_t len, intptr_t safe, const ic_sweep_layout *L,
                                     int *hasTime, double *time, ic_date_cache *cache) {
    intptr_t starts[IC_NOTED], gaps[IC_NOTED], gapCount = 0;
    int limit = L->dateColumn;
    if (L->timeColumn > limit) limit = L->timeColumn;
    if (L->stemColumn > limit) limit = L->stemColumn;
    limit = limit < 0 ? 1 : (limit + 1 > IC_NOTED ? IC_NOTED : limit + 1);
    intptr_t tokens = IC_NAME(w3c_shape)(p, len, safe, starts, gaps, &gapCount, limit);
    if (tokens < 0 || tokens != L->fields) return 0;
    if (L->stemColumn >= 0) {
        intptr_t f, t;
        IC_NAME(w3c_token)(p, len, starts, gaps, gapCount, limit, L->stemColumn, &f, &t);
        if (IC_NAME(slash_one)(p, f, t, safe) && IC_NAME(folder_raises)(p, f, t, L)) return 0;
    }
    *hasTime = 0;
    if (L->dateColumn < 0 || L->timeColumn < 0) return 1;
    intptr_t d0, d1, t0, t1;
    IC_NAME(w3c_token)(p, len, starts, gaps, gapCount, limit, L->dateColumn, &d0, &d1);
    IC_NAME(w3c_token)(p, len, starts, gaps, gapCount, limit, L->timeColumn, &t0, &t1);
    /* As the parser reads it: the date, a space and the time, of which the first 40 bytes. */
    uint8_t joined[40];
    int n = 0;
    for (intptr_t k = d0; k < d1 && n < 40; k++) joined[n++] = p[k];
    if (n < 40) joined[n++] = ' ';
    for (intptr_t k = t0; k < t1 && n < 40; k++) joined[n++] = p[k];
    *hasTime = parse_time(joined, n, time, cache);
    return 1;
}

IC_ATTR static intptr_t IC_NAME(sweep)(const uint8_t *base, intptr_t start, intptr_t end,
                                       const intptr_t *candidateEnds, intptr_t candidateCount, intptr_t *candidateIndex,
                                       const ic_sweep_layout *L, ic_sweep_totals *T) {
    intptr_t pos = start;
    intptr_t k = *candidateIndex;
    int64_t lines = 0, untimed = 0;
    int hasTime = T->hasTime;
    double first = T->first, last = T->last;
    ic_date_cache cache = { 0 };
    uint8_t callDate[10];
    int callDateSet = 0;
    while (pos < end) {
        const uint8_t *nl = memchr(base + pos, '\n', (size_t)(end - pos));
        if (!nl) break;
        intptr_t lf = nl - base;
        intptr_t stop = lf;
        if (stop > pos && base[stop - 1] == '\r') stop--;
        while (k < candidateCount && candidateEnds[k] < lf) k++;
        intptr_t len = stop - pos;
        if ((pos == 0 && L->firstLineUnjudged) || (k < candidateCount && candidateEnds[k] == lf) || len == 0 || len > L->maxLineBytes ||
            base[pos] == '#') break;
        int lineHasTime = 0;
        double t = 0;
        int ok = L->kind == IC_SWEEP_CSV ? IC_NAME(csv_line)(base + pos, len, end - pos, L, &lineHasTime, &t, &cache)
                                         : IC_NAME(w3c_line)(base + pos, len, end - pos, L, &lineHasTime, &t, &cache);
        if (!ok) break;
        /* One date per call: a line on another date than the call's earlier timed lines is left
           to Swift, so the days the call's lines fall on are those of its first and last times. */
        if (lineHasTime && hasTime && callDateSet && memcmp(callDate, cache.date, 10) != 0) break;
        if (lineHasTime && !callDateSet) { memcpy(callDate, cache.date, 10); callDateSet = 1; }
        lines++;
        if (!lineHasTime) untimed++;
        if (lineHasTime) {
            if (!hasTime) { first = t; last = t; hasTime = 1; }
            else {
                if (t < first) first = t;
                if (t > last) last = t;
            }
        }
        pos = lf + 1;
    }
    *candidateIndex = k;
    T->lines += lines;
    T->untimed += untimed;
    T->hasTime = hasTime;
    T->first = first;
    T->last = last;
    return pos;
}
