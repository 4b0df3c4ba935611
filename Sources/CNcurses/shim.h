// C helpers for the parts of ncurses that Swift cannot import: attribute and key macros,
// and the wide-character API, which is hidden unless NCURSES_WIDECHAR is set first.
#ifndef CLUSTER_TOP_CNCURSES_SHIM_H
#define CLUSTER_TOP_CNCURSES_SHIM_H

#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <wchar.h>
#include <ncursesw/curses.h>

static inline attr_t ct_attr_normal(void) { return A_NORMAL; }
static inline attr_t ct_attr_bold(void) { return A_BOLD; }
static inline attr_t ct_attr_reverse(void) { return A_REVERSE; }
static inline attr_t ct_attr_underline(void) { return A_UNDERLINE; }
static inline int ct_key_f(int n) { return KEY_F(n); }
static inline int ct_key_code_yes(void) { return KEY_CODE_YES; }

/// Draws `count` wide characters at (y, x) with one attribute set and color pair.
static inline int ct_draw_run(int y, int x, const wchar_t *text, int count, attr_t attributes, short pair) {
    attr_set(attributes, pair, NULL);
    return mvaddnwstr(y, x, text, count);
}

/// Reads one key as a wide character; returns OK, KEY_CODE_YES (function key) or ERR.
static inline int ct_read_key(wint_t *key) { return get_wch(key); }

#endif
