/* Keeps the memory of very long evidence lines from piling up in glibc's per-thread arenas. */
#include "CLineSweep.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

int ic_map_large_allocations(int threshold) {
#if defined(__GLIBC__)
    /* A fixed threshold also turns off glibc's dynamic one, which rises to the size of the
       largest mapped block freed and then serves blocks up to that size from the arenas. */
    return mallopt(M_MMAP_THRESHOLD, threshold);
#else
    (void)threshold;
    return 0;
#endif
}
