#ifndef INCIDENT_CHYPERSCAN_SHIM_H
#define INCIDENT_CHYPERSCAN_SHIM_H
/* Hyperscan (Debian libhyperscan-dev, https://intel.github.io/hyperscan/dev-reference/):
   multi-literal matching for the scanner's prefilter. The flag macros do not import into Swift. */
#include <hs/hs.h>

static inline unsigned int inc_hs_flag_caseless(void) { return HS_FLAG_CASELESS; }
static inline unsigned int inc_hs_mode_block(void) { return HS_MODE_BLOCK; }
static inline int inc_hs_success(void) { return HS_SUCCESS; }
static inline int inc_hs_scan_terminated(void) { return HS_SCAN_TERMINATED; }
#endif
