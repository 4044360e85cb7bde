/* sd_notify without libsystemd: the protocol is systemd's stable interface. */
#include "sdnotify.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_un notify_addr;
static socklen_t notify_len; /* 0 = no socket */
static int notify_fd = -1;
static uint64_t watchdog_usec;

void sdnotify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	notify_len = 0;
	if (path && (path[0] == '/' || path[0] == '@') &&
	    strlen(path) < sizeof notify_addr.sun_path) {
		memset(&notify_addr, 0, sizeof notify_addr);
		notify_addr.sun_family = AF_UNIX;
		memcpy(notify_addr.sun_path, path, strlen(path));
		if (path[0] == '@')
			notify_addr.sun_path[0] = '\0';
		/* offsetof + strlen, not sizeof: for an abstract name every byte up to the
		 * length is part of the name (unix(7)). */
		notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	}
	watchdog_usec = 0;
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	if (usec) {
		char *end;
		errno = 0;
		unsigned long long u = strtoull(usec, &end, 10);
		bool ours = true;
		if (pid && *pid) {
			char *pend;
			long long p = strtoll(pid, &pend, 10);
			ours = *pend == '\0' && p == (long long)getpid();
		}
		if (!errno && *end == '\0' && u > 0 && ours)
			watchdog_usec = u;
	}
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

int sdnotify(const char *msg)
{
	if (!notify_len)
		return 0;
	if (notify_fd < 0) {
		notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (notify_fd < 0)
			return -1;
	}
	ssize_t n = sendto(notify_fd, msg, strlen(msg), MSG_NOSIGNAL,
	                   (const struct sockaddr *)&notify_addr, notify_len);
	return n == (ssize_t)strlen(msg) ? 1 : -1;
}

int sdnotify_reloading(void)
{
	struct timespec ts;
	char msg[80];
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
	         (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
	return sdnotify(msg);
}

uint64_t sdnotify_watchdog_usec(void)
{
	return watchdog_usec;
}

void sdnotify_close(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}
