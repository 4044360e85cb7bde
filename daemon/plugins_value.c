/* Option types of the plugin schema: names and value checks, the same rules chored uses
 * for its own keys (units.c for durations and sizes, yes/no words for booleans). */
#include "plugins_value.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "plugins.h"
#include "units.h"

static const char *const type_names[] = {
    [CHORED_OPT_STRING] = "string",     [CHORED_OPT_INT] = "int",   [CHORED_OPT_BOOL] = "bool",
    [CHORED_OPT_DURATION] = "duration", [CHORED_OPT_SIZE] = "size", [CHORED_OPT_URL] = "url",
    [CHORED_OPT_PATH] = "path",         [CHORED_OPT_LIST] = "list",
};

bool plugin_type_known(enum chored_opt_type t)
{
	/* Compared as unsigned: a plugin may hold any number in the enum's storage. */
	return (unsigned)t < sizeof type_names / sizeof *type_names;
}

const char *plugin_opt_type_name(enum chored_opt_type t)
{
	return plugin_type_known(t) ? type_names[t] : "unknown";
}

static bool valid_int(const char *v)
{
	const char *p = v + (*v == '-' || *v == '+');
	if (*p < '0' || *p > '9')
		return false;
	char *end;
	errno = 0;
	(void)strtoll(v, &end, 10);
	return errno == 0 && *end == '\0';
}

static bool valid_bool(const char *v)
{
	static const char *const words[] = {"yes", "no", "true", "false", "on", "off", "1", "0"};
	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (strcmp(v, words[i]) == 0)
			return true;
	return false;
}

/* scheme "://" rest, scheme per RFC 3986, no blanks anywhere. */
static bool valid_url(const char *v)
{
	const char *p = v;
	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return false;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
	       *p == '+' || *p == '-' || *p == '.')
		p++;
	if (strncmp(p, "://", 3) != 0 || !p[3])
		return false;
	return !strpbrk(v, " \t\r\n");
}

bool plugin_value_valid(enum chored_opt_type t, const char *v, const char **expected)
{
	char err[128];
	int64_t secs;
	uint64_t bytes;
	switch (t) {
	case CHORED_OPT_STRING:
	case CHORED_OPT_LIST:
		return true;
	case CHORED_OPT_INT:
		*expected = "an integer";
		return valid_int(v);
	case CHORED_OPT_BOOL:
		*expected = "yes or no (true/false, on/off, 1/0)";
		return valid_bool(v);
	case CHORED_OPT_DURATION:
		*expected = "a duration such as 90s, 15m, 2h, 3d or 2w";
		return units_parse_duration(v, &secs, err, sizeof err) == 0;
	case CHORED_OPT_SIZE:
		*expected = "a size such as 512K, 64M or 1G";
		return units_parse_size(v, &bytes, err, sizeof err) == 0;
	case CHORED_OPT_URL:
		*expected = "a URL such as https://example.com/path";
		return valid_url(v);
	case CHORED_OPT_PATH:
		*expected = "an absolute path";
		return v[0] == '/';
	}
	*expected = "a value of a known type";
	return false;
}

const struct chored_option *plugin_option(const struct chored_plugin *desc, const char *key)
{
	for (const struct chored_option *o = desc->options; o && o->key; o++)
		if (strcmp(o->key, key) == 0)
			return o;
	return NULL;
}

bool plugin_declares(const struct plugin_set *set, const char *name, const char *key)
{
	const struct plugin *p = name ? plugin_find(set, name) : NULL;
	return p && plugin_option(p->desc, key) != NULL;
}

size_t plugin_forwarded(const struct cfg_job *job, const struct chored_plugin *desc,
                        struct plugin_forward out[PLUGIN_FORWARD_MAX])
{
	size_t n = 0;
	/* 0 is chored's "none" for both: the plugin's own default applies then. */
	if (job->timeout > 0 && plugin_option(desc, "timeout")) {
		out[n].key = "timeout";
		units_format_duration(job->timeout, out[n].value, sizeof out[n].value);
		n++;
	}
	if (job->retries > 0 && plugin_option(desc, "retries")) {
		out[n].key = "retries";
		snprintf(out[n].value, sizeof out[n].value, "%u", job->retries);
		n++;
	}
	/* The job's zone (its own or [daemon] timezone): months, days and windows of the plugin
	 * are those of the schedule. */
	if (job->timezone && plugin_option(desc, "timezone") &&
	    strlen(job->timezone) < sizeof out[n].value) {
		out[n].key = "timezone";
		snprintf(out[n].value, sizeof out[n].value, "%s", job->timezone);
		n++;
	}
	return n;
}
