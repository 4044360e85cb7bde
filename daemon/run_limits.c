/* chored-run: resource limits and the run's user, from the input document. */
#include "run_limits.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <json-c/json.h>

/* The non-negative integer member `key` of `limits` into *out; 0 = absent, 1 = set,
 * -1 = present but not a non-negative integer. */
static int get_count(struct json_object *limits, const char *key, int64_t *out)
{
	struct json_object *v;
	if (!json_object_object_get_ex(limits, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return -1;
	*out = json_object_get_int64(v);
	return 1;
}

static int set_limit(int resource, const char *name, rlim_t soft, rlim_t hard, char *err,
                     size_t errlen)
{
	struct rlimit rl = {.rlim_cur = soft, .rlim_max = hard};
	if (setrlimit(resource, &rl) == 0)
		return 0;
	snprintf(err, errlen, "limits: cannot set %s to %llu: %s", name, (unsigned long long)soft,
	         strerror(errno));
	return -1;
}

static int switch_user(const char *name, char *err, size_t errlen)
{
	errno = 0;
	struct passwd *pw = getpwnam(name);
	if (!pw) {
		snprintf(err, errlen, "limits: user '%s' does not exist", name);
		return -1;
	}
	if (geteuid() != 0) {
		if (pw->pw_uid == geteuid())
			return 0; /* already that user */
		snprintf(err, errlen, "limits: cannot run as user '%s': chored-run is not root",
		         name);
		return -1;
	}
	/* Groups first: setgid and initgroups need the privileges setuid drops. */
	if (initgroups(name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		snprintf(err, errlen, "limits: cannot switch to user '%s': %s", name,
		         strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
		snprintf(err, errlen,
		         "limits: root privileges could be regained after switching to '%s'", name);
		return -1;
	}
	return 0;
}

int run_limits_apply(struct json_object *limits, char *err, size_t errlen)
{
	if (!limits)
		return 0;
	if (!json_object_is_type(limits, json_type_object)) {
		snprintf(err, errlen, "input: \"limits\" is not an object");
		return -1;
	}
	int64_t n;
	int r = get_count(limits, "memory", &n);
	if (r < 0) {
		snprintf(err, errlen, "input: limits.memory is not a byte count");
		return -1;
	}
	if (r > 0 && set_limit(RLIMIT_AS, "RLIMIT_AS", (rlim_t)n, (rlim_t)n, err, errlen) < 0)
		return -1;
	r = get_count(limits, "cpu", &n);
	if (r < 0) {
		snprintf(err, errlen, "input: limits.cpu is not a number of seconds");
		return -1;
	}
	/* SIGXCPU at the soft limit says why the run ended; SIGKILL one second later if the
	 * plugin ignores it. */
	if (r > 0 && set_limit(RLIMIT_CPU, "RLIMIT_CPU", (rlim_t)n, (rlim_t)n + 1, err, errlen) < 0)
		return -1;
	struct json_object *user;
	if (json_object_object_get_ex(limits, "user", &user) &&
	    !json_object_is_type(user, json_type_null)) {
		if (!json_object_is_type(user, json_type_string) ||
		    !*json_object_get_string(user)) {
			snprintf(err, errlen, "input: limits.user is not a user name");
			return -1;
		}
		return switch_user(json_object_get_string(user), err, errlen);
	}
	return 0;
}
