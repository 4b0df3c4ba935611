// C helpers for the parts of ncurses that Swift cannot import: attribute and key macros,
// and the wide-character API, which is hidden unless NCURSES_WIDECHAR is set first.
#ifndef CLUSTER_TOP_CNCURSES_SHIM_H
#define CLUSTER_TOP_CNCURSES_SHIM_H

#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <signal.h>
#include <string.h>
#include <wchar.h>
#include <langinfo.h>
#include <ncursesw/curses.h>

static inline attr_t ct_attr_normal(void) { return A_NORMAL; }
static inline attr_t ct_attr_bold(void) { return A_BOLD; }
static inline attr_t ct_attr_reverse(void) { return A_REVERSE; }
static inline attr_t ct_attr_underline(void) { return A_UNDERLINE; }
static inline int ct_key_f(int n) { return KEY_F(n); }
static inline int ct_key_code_yes(void) { return KEY_CODE_YES; }

/* C globals (stdscr, stdout, COLORS) are shared mutable state to Swift 6; reach them here. */
static inline SCREEN *ct_newterm(void) { return newterm(NULL, stdout, stdin); }
static inline WINDOW *ct_stdscr(void) { return stdscr; }
static inline int ct_width(void) { return getmaxx(stdscr); }
static inline int ct_height(void) { return getmaxy(stdscr); }
static inline int ct_colors(void) { return COLORS; }

/// Draws `count` wide characters at (y, x) with one attribute set and color pair.
static inline int ct_draw_run(int y, int x, const wchar_t *text, int count, attr_t attributes, short pair) {
    attr_set(attributes, pair, NULL);
    return mvaddnwstr(y, x, text, count);
}

/// Reads one key as a wide character; returns OK, KEY_CODE_YES (function key) or ERR.
static inline int ct_read_key(wint_t *key) { return get_wch(key); }

/// Asks for presses of the first button and the wheel, reported at once (no click timing, which
/// would hold each press back).
static inline void ct_enable_mouse(void) {
    mmask_t wanted = BUTTON1_PRESSED | BUTTON4_PRESSED;
#ifdef BUTTON5_PRESSED
    wanted |= BUTTON5_PRESSED;
#endif
    mousemask(wanted, NULL);
    mouseinterval(0);
}

/// The pending mouse event: 1 for a press of the first button, 4 the wheel up, 5 the wheel
/// down, 0 anything else, -1 none; its cell in x and y.
static inline int ct_read_mouse(int *x, int *y) {
    MEVENT event;
    if (getmouse(&event) != OK) return -1;
    *x = event.x;
    *y = event.y;
    if (event.bstate & BUTTON1_PRESSED) return 1;
    if (event.bstate & BUTTON4_PRESSED) return 4;
#ifdef BUTTON5_PRESSED
    if (event.bstate & BUTTON5_PRESSED) return 5;
#endif
    return 0;
}

/// True when the locale's character set is UTF-8 (call after setlocale).
static inline int ct_locale_is_utf8(void) {
    const char *codeset = nl_langinfo(CODESET);
    return codeset != NULL && (strcmp(codeset, "UTF-8") == 0 || strcmp(codeset, "utf8") == 0);
}

#endif
