#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "terminal_support.h"

/* Signals whose default action dumps core: a crash, or a user's SIGQUIT (Ctrl-backslash). */
static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGQUIT, SIGSYS };

static void crash_handler(int sig) {
    /* endwin() is not async-signal-safe, but the process is going down anyway and a usable
       shell is worth the risk; this is what ncurses itself does for SIGINT/SIGTERM. */
    endwin();
    static const char crashed[] = "cluster-top crashed; the terminal has been restored.\n";
    static const char quit[] = "cluster-top quit (SIGQUIT); the terminal has been restored.\n";
    ssize_t ignored = sig == SIGQUIT ? write(STDERR_FILENO, quit, sizeof quit - 1)
                                     : write(STDERR_FILENO, crashed, sizeof crashed - 1);
    (void)ignored;
    /* The default action, not the Swift runtime's reporter: on a terminal that reporter waits
       30 s for a key press, which is no way to hand a shell back. */
    signal(sig, SIG_DFL);
    raise(sig);
}

void ct_install_crash_handlers(void) {
    for (unsigned i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = crash_handler;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_NODEFER;
        sigaction(crash_signals[i], &action, NULL);
    }
}
