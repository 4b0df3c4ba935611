#ifndef CLUSTER_TOP_TERMINAL_SUPPORT_H
#define CLUSTER_TOP_TERMINAL_SUPPORT_H

/// Installs handlers for crash signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP) that
/// restore the terminal with endwin(), say so in one line, and then die by the default action.
void ct_install_crash_handlers(void);

#endif
