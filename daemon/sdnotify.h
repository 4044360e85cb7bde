/* The systemd notify protocol spoken directly (sd_notify(3)): one datagram of KEY=VALUE
 * lines to $NOTIFY_SOCKET (a path, or '@' for the abstract namespace). Without the
 * variable every call is a no-op, so chored behaves the same outside systemd. */
#ifndef CHORED_SDNOTIFY_H
#define CHORED_SDNOTIFY_H

#include <stdint.h>

/* Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID, then removes them from the
 * environment so that no runner (and no job) can talk to systemd in our name. */
void sdnotify_init(void);
/* Sends `msg` ("READY=1", "RELOADING=1\nMONOTONIC_USEC=…", …). Returns 1 when sent,
 * 0 when there is no socket, -1 on error. */
int sdnotify(const char *msg);
/* "RELOADING=1\nMONOTONIC_USEC=<now>" as Type=notify-reload requires. */
int sdnotify_reloading(void);
/* The watchdog period in µs when it applies to this process, else 0. */
uint64_t sdnotify_watchdog_usec(void);
void sdnotify_close(void);

#endif
