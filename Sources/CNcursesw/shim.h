#ifndef INCIDENT_CNCURSESW_SHIM_H
#define INCIDENT_CNCURSESW_SHIM_H
/* The wide-character API (get_wch, cchar_t, setcchar) needs one of these before the include. */
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <locale.h>
#include <langinfo.h>
#include <wchar.h>
#include <ncursesw/curses.h>
#include <ncursesw/term.h>

/* Swift cannot import these macros and C globals safely under Swift 6; accessors instead. */
static inline attr_t inc_a_normal(void)    { return A_NORMAL; }
static inline attr_t inc_a_bold(void)      { return A_BOLD; }
static inline attr_t inc_a_reverse(void)   { return A_REVERSE; }
static inline attr_t inc_a_underline(void) { return A_UNDERLINE; }
static inline attr_t inc_a_dim(void)       { return A_DIM; }
static inline WINDOW *inc_stdscr(void)     { return stdscr; }
static inline WINDOW *inc_curscr(void)     { return curscr; }
static inline int inc_lines(void)          { return LINES; }
static inline int inc_cols(void)           { return COLS; }
static inline int inc_colors(void)         { return COLORS; }
static inline int inc_color_pairs(void)    { return COLOR_PAIRS; }
static inline int inc_key_resize(void)     { return KEY_RESIZE; }
static inline const char *inc_codeset(void) { return nl_langinfo(CODESET); }
/* 1 when the terminal description has absolute cursor addressing (cup). */
static inline int inc_has_cursor_addressing(void) {
    char *cap = tigetstr((char *)"cup");
    return cap != NULL && cap != (char *)-1;
}
#endif
