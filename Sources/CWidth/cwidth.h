#ifndef INCIDENT_CWIDTH_H
#define INCIDENT_CWIDTH_H
/* Swift's Glibc module hides wcwidth (it is declared only under X/Open feature macros). */
#include <wchar.h>
#include <locale.h>
extern int wcwidth(wchar_t c);
#endif
