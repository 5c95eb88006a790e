#ifndef INCIDENT_CLINESWEEP_H
#define INCIDENT_CLINESWEEP_H
/* The scanner's quick path over many log lines at once (see EvidenceScanner.prefiltered in
   IncidentCore): lines the literal prefilter ruled out are checked, counted and timed here, in
   one vectorised pass per line, until a line needs the Swift side (a candidate, or any line whose
   bytes the checks below do not settle). It accepts a line only when the parser's own
   `quickRecord(_:fileBuild:)` would accept it and give the same time; it leaves every other line
   to that code, so the results never depend on this file. */
#include <stdint.h>

/* Field separation of the format. */
enum { IC_SWEEP_CSV = 0, IC_SWEEP_W3C = 1 };

/* What the sweep needs to know of the file's header and build. Columns are 0-based, -1 when the
   header lacks them. */
typedef struct {
    int32_t kind;              /* IC_SWEEP_CSV (Exchange HttpProxy) or IC_SWEEP_W3C (IIS) */
    int32_t fields;            /* the header's number of columns */
    int32_t headLength;        /* CSV: UTF-8 bytes of the header's first name (a first value at
                                  most 8 bytes longer may be a repeated header: left to Swift) */
    int32_t timeColumn;        /* CSV `DateTime`, W3C `time` */
    int32_t dateColumn;        /* W3C `date` */
    int32_t stemColumn;        /* `UrlStem` / `cs-uri-stem`: a version folder in it may show a build */
    int32_t versionColumns[3]; /* CSV `MajorVersion`, `MinorVersion`, `BuildVersion`, or all -1 */
    int32_t checkBuild;        /* the header has build columns or a stem column (see BuildEvidence) */
    int32_t hasBLD;            /* the header has an `S:BLD` column */
    int64_t fileBuild[3];      /* the file's build so far (major, minor, build); fileBuild[0] < 0: none */
    int64_t maxLineBytes;      /* longer lines are left to Swift */
    int32_t firstLineUnjudged; /* the line at offset 0 was not judged by the prefilter: left to Swift */
} ic_sweep_layout;

/* What the accepted lines add up to. */
typedef struct {
    int64_t lines;             /* lines accepted */
    int64_t untimed;           /* of those, lines without a readable time */
    int32_t hasTime;           /* whether `first` and `last` hold a time */
    double first, last;        /* earliest and latest time, seconds since 1970-01-01 UTC */
} ic_sweep_totals;

/* Sweeps the lines of `base[start..<end)`; `end` must be just after an LF, `start` a line start.
   `candidateEnds` (ascending LF offsets, `candidateCount` of them) are the lines the prefilter
   kept; `*candidateIndex` is the first of them not yet passed and is advanced. The line at offset
   0 is left to Swift when `layout->firstLineUnjudged` is set (its leading separator was not seen).
   Returns the offset of the first line left to Swift, or `end` when every line was accepted. */
intptr_t ic_sweep(const uint8_t *base, intptr_t start, intptr_t end,
                  const intptr_t *candidateEnds, intptr_t candidateCount, intptr_t *candidateIndex,
                  const ic_sweep_layout *layout, ic_sweep_totals *totals);

/* `ic_sweep` built for the processor's baseline only (SSE2 on x86-64, 8 bytes at a time
   elsewhere), whatever the processor has: for tests of the build `ic_sweep` does not choose here. */
intptr_t ic_sweep_baseline(const uint8_t *base, intptr_t start, intptr_t end,
                           const intptr_t *candidateEnds, intptr_t candidateCount, intptr_t *candidateIndex,
                           const ic_sweep_layout *layout, ic_sweep_totals *totals);

/* The offset of the last LF in `bytes[0..<count)`, or -1 (memrchr: a long unfinished line is
   searched at memory speed on every chunk it grows by). */
intptr_t ic_last_lf(const uint8_t *bytes, intptr_t count);

/* As `Timestamps.parse(bytes:)` in IncidentCore: the first 40 bytes read as
   `yyyy-MM-dd[T ]HH:mm:ss[.fff…][Z| …]`. Returns 1 and sets `*seconds` (since 1970 UTC), or 0. */
int ic_parse_time(const uint8_t *bytes, intptr_t count, double *seconds);

/* Has blocks of `threshold` bytes and more mapped on their own and given back to the system when
   freed (glibc's M_MMAP_THRESHOLD, fixed). Process-wide. Returns 1 on success, 0 otherwise or
   where the C library is not glibc. */
int ic_map_large_allocations(int threshold);
#endif
