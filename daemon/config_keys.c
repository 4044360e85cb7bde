/* Typed keys of [daemon], [job NAME] and [notify NAME] (design §4): defaults, value
 * checks and conversion into struct cfg. Values arrive merged and reference-expanded;
 * a value that came from a reference is never repeated in an error message. */
#include "config_ini.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "units.h"
#include "xalloc.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#ifndef PKGLIBDIR
#define PKGLIBDIR "/usr/lib/chored"
#endif
#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

/* "'VALUE'", or a stand-in when the value came from a reference (it may be a secret).
 * Long values are shortened for the message only; the value itself is not touched. */
static void bad(struct cfg_loader *L, const struct cfgk_section *s, const struct cfg_kv *kv,
                const char *expected)
{
	if (kv->from_reference)
		cfgl_error(L, &kv->origin, s, kv->key,
		           "the value (from a reference, not shown) is not valid; expected %s",
		           expected);
	else if (strlen(kv->value) > 80)
		cfgl_error(L, &kv->origin, s, kv->key, "'%.80s…' is not valid; expected %s",
		           kv->value, expected);
	else
		cfgl_error(L, &kv->origin, s, kv->key, "'%s' is not valid; expected %s", kv->value,
		           expected);
}

/* Reports a helper's message (which quotes the value) unless the value must stay hidden. */
static void bad_msg(struct cfg_loader *L, const struct cfgk_section *s, const struct cfg_kv *kv,
                    const char *msg, const char *expected)
{
	if (kv->from_reference)
		bad(L, s, kv, expected);
	else
		cfgl_error(L, &kv->origin, s, kv->key, "%s", msg);
}

int cfgk_kind_of(const char *type)
{
	if (strcmp(type, "daemon") == 0)
		return CFGK_DAEMON;
	if (strcmp(type, "job") == 0)
		return CFGK_JOB;
	if (strcmp(type, "notify") == 0)
		return CFGK_NOTIFY;
	if (strcmp(type, "secrets") == 0)
		return CFGK_SECRETS;
	return -1;
}

bool cfgk_is_secret_key(enum cfgk_kind kind, const char *key)
{
	switch (kind) {
	case CFGK_DAEMON:
		return strcmp(key, "admin_token") == 0;
	case CFGK_NOTIFY:
		return strcmp(key, "password") == 0 || strcmp(key, "api_key") == 0 ||
		       strcmp(key, "token") == 0;
	default:
		return false;
	}
}

/* ---- value parsers ---- */

static bool parse_uint(const char *v, uint64_t max, uint64_t *out)
{
	if (!*v)
		return false;
	uint64_t n = 0;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		unsigned d = (unsigned)(*p - '0');
		if (n > (max - d) / 10)
			return false;
		n = n * 10 + d;
	}
	*out = n;
	return true;
}

static bool parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

#define DURATION_EXPECTED "a duration such as 90s, 15m, 2h, 3d or 2w (0 = none)"

static void get_duration(struct cfg_loader *L, const struct cfgk_section *s,
                         const struct cfg_kv *kv, int64_t *out)
{
	char err[256];
	if (strcmp(kv->value, "0") == 0) {
		*out = 0;
		return;
	}
	if (units_parse_duration(kv->value, out, err, sizeof err) < 0)
		bad_msg(L, s, kv, err, DURATION_EXPECTED);
}

static void get_uint(struct cfg_loader *L, const struct cfgk_section *s, const struct cfg_kv *kv,
                     uint64_t min, uint64_t max, unsigned *out)
{
	uint64_t n;
	if (!parse_uint(kv->value, max, &n) || n < min) {
		char exp[96];
		snprintf(exp, sizeof exp, "a whole number from %llu to %llu",
		         (unsigned long long)min, (unsigned long long)max);
		bad(L, s, kv, exp);
		return;
	}
	*out = (unsigned)n;
}

static bool is_abs_path(const char *v)
{
	return v[0] == '/';
}

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static bool valid_state_url(const char *v)
{
	if (has_prefix(v, "sqlite://")) {
		const char *path = v + strlen("sqlite://");
		size_t n = strlen(path);
		return path[0] == '/' && n > 1 && path[n - 1] != '/';
	}
	return has_prefix(v, "postgresql://") || has_prefix(v, "postgres://");
}

static bool valid_port(const char *p)
{
	uint64_t n;
	return parse_uint(p, 65535, &n) && n >= 1;
}

static bool valid_listen(const char *v)
{
	if (!*v)
		return true;
	if (v[0] == '[') {
		const char *close = strchr(v, ']');
		if (!close || close[1] != ':' || close - v - 1 >= INET6_ADDRSTRLEN)
			return false;
		char host[INET6_ADDRSTRLEN];
		memcpy(host, v + 1, (size_t)(close - v - 1));
		host[close - v - 1] = '\0';
		struct in6_addr a;
		return inet_pton(AF_INET6, host, &a) == 1 && valid_port(close + 2);
	}
	const char *colon = strrchr(v, ':');
	if (!colon || colon == v)
		return false;
	for (const char *p = v; p < colon; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			return false;
	return valid_port(colon + 1);
}

static const char *const policy_names[] = {"always", "on-failure", "on-change", "never"};

/* Space- and/or comma-separated "sink[:policy]"; an empty value means no notification. */
static void get_notify(struct cfg_loader *L, const struct cfgk_section *s, const struct cfg_kv *kv,
                       struct cfg_notify_ref **out, size_t *n_out)
{
	struct cfg_notify_ref *list = NULL;
	size_t n = 0;
	bool ok = true;
	const char *p = kv->value;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		const char *b = p;
		while (*p && *p != ' ' && *p != '\t' && *p != ',')
			p++;
		size_t len = (size_t)(p - b);
		char *item = xrealloc(NULL, len + 1);
		memcpy(item, b, len);
		item[len] = '\0';
		char *colon = strchr(item, ':');
		enum cfg_policy pol = CFG_POLICY_ON_FAILURE;
		if (colon) {
			*colon = '\0';
			int found = -1;
			for (int i = 0; i < 4; i++)
				if (strcmp(colon + 1, policy_names[i]) == 0)
					found = i;
			if (found < 0) {
				ok = false;
				if (kv->from_reference)
					bad(L, s, kv, "sink[:policy] items");
				else
					cfgl_error(
					    L, &kv->origin, s, kv->key,
					    "'%s' in '%s:%s' is not a policy; expected always, "
					    "on-failure, on-change or never",
					    colon + 1, item, colon + 1);
				free(item);
				continue;
			}
			pol = (enum cfg_policy)found;
		}
		if (!ini_is_name(item) || !cfgl_has_sink(L, item)) {
			ok = false;
			if (kv->from_reference)
				bad(L, s, kv, "names of [notify NAME] sections");
			else
				cfgl_error(L, &kv->origin, s, kv->key,
				           "'%s' is not a defined sink; define it as [notify %s]",
				           item, item);
			free(item);
			continue;
		}
		bool dup = false;
		for (size_t i = 0; i < n; i++)
			dup |= strcmp(list[i].sink, item) == 0;
		if (dup) {
			ok = false;
			cfgl_error(L, &kv->origin, s, kv->key, "sink '%s' is listed twice", item);
			free(item);
			continue;
		}
		list = xrealloc(list, (n + 1) * sizeof *list);
		list[n].sink = item;
		list[n].policy = pol;
		n++;
	}
	for (size_t i = 0; i < *n_out; i++)
		free((*out)[i].sink);
	free(*out);
	*out = NULL;
	*n_out = 0;
	if (!ok) {
		for (size_t i = 0; i < n; i++)
			free(list[i].sink);
		free(list);
		return;
	}
	*out = list;
	*n_out = n;
}

static struct cfg_notify_ref *copy_notify(const struct cfg_notify_ref *src, size_t n)
{
	if (!n)
		return NULL;
	struct cfg_notify_ref *d = xrealloc(NULL, n * sizeof *d);
	for (size_t i = 0; i < n; i++) {
		d[i].sink = xstrdup(src[i].sink);
		d[i].policy = src[i].policy;
	}
	return d;
}

static void free_notify(struct cfg_notify_ref *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i].sink);
	free(l);
}

static const struct tz *get_zone(struct cfg_loader *L, const struct cfgk_section *s,
                                 const struct cfg_kv *kv)
{
	char err[256];
	const struct tz *z = tz_get(kv->value, err, sizeof err);
	if (!z)
		bad_msg(L, s, kv, err, "a zone name such as UTC or Europe/Paris");
	return z;
}

/* True when a valid `listen` value names this host only: localhost, 127.0.0.0/8, [::1] or
 * [::ffff:127.x.y.z]. Any other name may resolve to a public address. */
static bool listen_is_loopback(const char *v)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(v, ':');
	size_t n = colon ? (size_t)(colon - v) : 0;
	if (n == 0 || n >= sizeof host)
		return false;
	memcpy(host, v, n);
	host[n] = '\0';
	if (host[0] == '[') {
		host[n - 1] = '\0';
		struct in6_addr a;
		return inet_pton(AF_INET6, host + 1, &a) == 1 &&
		       (IN6_IS_ADDR_LOOPBACK(&a) ||
		        (IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127));
	}
	struct in_addr a4;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0;
}

/* ---- [daemon] ---- */

static const char DAEMON_KEYS[] = "state, plugin_dir, timezone, listen, socket, admin_token, "
                                  "notify, history, display_timezone";

void cfgk_daemon(struct cfg_loader *L, const struct cfgk_section *s, struct cfg_daemon *d)
{
	memset(d, 0, sizeof *d);
	d->state = xstrdup("sqlite://" LOCALSTATEDIR "/lib/chored/state.db");
	d->plugin_dir = xstrdup(PKGLIBDIR);
	d->timezone = xstrdup("UTC");
	d->tz = tz_utc();
	d->listen = xstrdup("127.0.0.1:8470");
	d->socket = xstrdup(RUNSTATEDIR "/chored/chored.sock");
	d->history = 100;
	const struct cfg_kv *listen_kv = NULL;
	for (size_t i = 0; s && i < s->n_kv; i++) {
		const struct cfg_kv *kv = &s->kv[i];
		const char *k = kv->key, *v = kv->value;
		if (strcmp(k, "state") == 0) {
			if (valid_state_url(v))
				set_str(&d->state, v);
			else
				bad(L, s, kv,
				    "sqlite:///ABSOLUTE/PATH or postgresql://… (postgres://…)");
		} else if (strcmp(k, "plugin_dir") == 0) {
			if (is_abs_path(v))
				set_str(&d->plugin_dir, v);
			else
				bad(L, s, kv, "an absolute directory path");
		} else if (strcmp(k, "timezone") == 0) {
			const struct tz *z = get_zone(L, s, kv);
			d->tz = z;
			set_str(&d->timezone, v);
		} else if (strcmp(k, "listen") == 0) {
			if (valid_listen(v)) {
				set_str(&d->listen, v);
				listen_kv = kv;
			} else
				bad(L, s, kv,
				    "HOST:PORT or [IPv6]:PORT with a port from 1 to 65535, or an "
				    "empty "
				    "value to turn the admin HTTP API off");
		} else if (strcmp(k, "socket") == 0) {
			if (!is_abs_path(v))
				bad(L, s, kv, "an absolute path");
			else if (strlen(v) >= sizeof(((struct sockaddr_un *)0)->sun_path))
				cfgl_error(
				    L, &kv->origin, s, k,
				    "path is %zu bytes long; a socket path must be shorter than "
				    "%zu",
				    strlen(v), sizeof(((struct sockaddr_un *)0)->sun_path));
			else
				set_str(&d->socket, v);
		} else if (strcmp(k, "admin_token") == 0) {
			if (*v)
				set_str(&d->admin_token, v);
			else /* the value is not echoed: it is a secret */
				cfgl_error(
				    L, &kv->origin, s, k,
				    "the token is empty; give the admin HTTP API a long random "
				    "token, or remove the key to leave it read-only");
		} else if (strcmp(k, "notify") == 0) {
			get_notify(L, s, kv, &d->notify, &d->n_notify);
		} else if (strcmp(k, "history") == 0) {
			get_uint(L, s, kv, 1, 1000000, &d->history);
		} else if (strcmp(k, "display_timezone") == 0) {
			if (!*v) { /* empty = unset, so a drop-in can clear it */
				free(d->display_timezone);
				d->display_timezone = NULL;
				d->display_tz = NULL;
				continue;
			}
			d->display_tz = get_zone(L, s, kv);
			set_str(&d->display_timezone, v);
		} else {
			cfgl_error(L, &kv->origin, s, k, "unknown key; [daemon] allows %s",
			           DAEMON_KEYS);
		}
	}
	/* An admin API reachable from other hosts with no token would serve every read route
	 * to the network and could not be told apart from an oversight: refused. */
	if (listen_kv && *d->listen && !listen_is_loopback(d->listen) && !d->admin_token)
		cfgl_error(L, &listen_kv->origin, s, "listen",
		           "'%s' is not a loopback address, and [daemon] admin_token is not set; "
		           "set admin_token = ${secret:NAME} (or ${credential:NAME}) to serve the "
		           "admin HTTP API beyond this host, or listen on 127.0.0.1 or [::1]",
		           d->listen);
}

void cfgk_daemon_free(struct cfg_daemon *d)
{
	free(d->state);
	free(d->plugin_dir);
	free(d->timezone);
	free(d->listen);
	free(d->socket);
	free(d->admin_token);
	free_notify(d->notify, d->n_notify);
	free(d->display_timezone);
	memset(d, 0, sizeof *d);
}

/* ---- [notify NAME] ---- */

struct sink_spec {
	const char *type;
	enum cfg_sink_type t;
	const char *allowed[7];  /* NULL-terminated */
	const char *required[4]; /* NULL-terminated */
};

static const struct sink_spec sink_specs[] = {
    {"outbox", CFG_SINK_OUTBOX, {"path", NULL}, {NULL}},
    {"smtp",
     CFG_SINK_SMTP,
     {"url", "from", "to", "username", "password", NULL},
     {"url", "from", "to", NULL}},
    {"resend",
     CFG_SINK_RESEND,
     {"api_key", "from", "to", "base_url", NULL},
     {"api_key", "from", "to", NULL}},
    {"webhook", CFG_SINK_WEBHOOK, {"url", "token", NULL}, {"url", NULL}},
    {"notion",
     CFG_SINK_NOTION,
     {"token", "parent_page", "mode", "base_url", NULL},
     {"token", "parent_page", NULL}},
};

static bool in_list(const char *const *l, const char *k)
{
	for (; *l; l++)
		if (strcmp(*l, k) == 0)
			return true;
	return false;
}

static void check_sink_value(struct cfg_loader *L, const struct cfgk_section *s,
                             const struct sink_spec *sp, const struct cfg_kv *kv)
{
	const char *k = kv->key, *v = kv->value;
	if (strcmp(k, "url") == 0 && sp->t == CFG_SINK_SMTP) {
		if (!has_prefix(v, "smtp://") && !has_prefix(v, "smtps://"))
			bad(L, s, kv, "smtp://HOST[:PORT] or smtps://HOST[:PORT]");
	} else if ((strcmp(k, "url") == 0 && sp->t == CFG_SINK_WEBHOOK) ||
	           strcmp(k, "base_url") == 0) {
		if (!has_prefix(v, "http://") && !has_prefix(v, "https://"))
			bad(L, s, kv, "an http:// or https:// URL");
	} else if (strcmp(k, "path") == 0) {
		if (!is_abs_path(v))
			bad(L, s, kv, "an absolute path");
	} else if (strcmp(k, "mode") == 0) {
		if (strcmp(v, "subpage") != 0 && strcmp(v, "append") != 0)
			bad(L, s, kv, "subpage or append");
	} else if (strcmp(k, "from") == 0 || strcmp(k, "to") == 0) {
		if (!strchr(v, '@'))
			bad(L, s, kv, "an e-mail address such as ops@example.com");
	} else if (!*v) {
		cfgl_error(L, &kv->origin, s, k, "must not be empty");
	}
}

void cfgk_sink(struct cfg_loader *L, const struct cfgk_section *s, struct cfg_sink *out)
{
	memset(out, 0, sizeof *out);
	out->name = xstrdup(s->name);
	out->origin = s->origin;
	const struct cfg_kv *type = NULL;
	for (size_t i = 0; i < s->n_kv; i++)
		if (strcmp(s->kv[i].key, "type") == 0)
			type = &s->kv[i];
	if (!type) {
		cfgl_error(L, &s->origin, s, "type",
		           "required; one of outbox, smtp, resend, webhook, notion");
		return;
	}
	const struct sink_spec *sp = NULL;
	for (size_t i = 0; i < sizeof sink_specs / sizeof *sink_specs; i++)
		if (strcmp(type->value, sink_specs[i].type) == 0)
			sp = &sink_specs[i];
	if (!sp) {
		bad(L, s, type, "outbox, smtp, resend, webhook or notion");
		return;
	}
	out->type = sp->t;
	out->keys = xrealloc(NULL, (s->n_kv ? s->n_kv : 1) * sizeof *out->keys);
	for (size_t i = 0; i < s->n_kv; i++) {
		const struct cfg_kv *kv = &s->kv[i];
		if (kv == type)
			continue;
		if (!in_list(sp->allowed, kv->key)) {
			char allowed[128] = "";
			for (const char *const *a = sp->allowed; *a; a++) {
				if (a != sp->allowed)
					strcat(allowed, ", ");
				strcat(allowed, *a);
			}
			cfgl_error(L, &kv->origin, s, kv->key,
			           "unknown key for type %s; allowed: type, %s", sp->type, allowed);
			continue;
		}
		check_sink_value(L, s, sp, kv);
		cfgk_kv_copy(&out->keys[out->n_keys++], kv);
	}
	for (const char *const *r = sp->required; *r; r++) {
		bool have = false;
		for (size_t i = 0; i < out->n_keys; i++)
			have |= strcmp(out->keys[i].key, *r) == 0;
		if (!have)
			cfgl_error(L, &s->origin, s, *r, "required for type %s", sp->type);
	}
}

void cfgk_kv_free(struct cfg_kv *kv)
{
	free(kv->key);
	if (kv->value) {
		/* may hold a secret: do not leave it in freed heap memory */
		explicit_bzero(kv->value, strlen(kv->value));
		free(kv->value);
	}
	kv->key = kv->value = NULL;
	for (size_t i = 0; i < kv->n_secret_parts; i++) {
		explicit_bzero(kv->secret_parts[i], strlen(kv->secret_parts[i]));
		free(kv->secret_parts[i]);
	}
	free(kv->secret_parts);
	kv->secret_parts = NULL;
	kv->n_secret_parts = 0;
}

void cfgk_kv_copy(struct cfg_kv *dst, const struct cfg_kv *src)
{
	*dst = *src;
	dst->key = xstrdup(src->key);
	dst->value = xstrdup(src->value);
	dst->secret_parts = NULL;
	dst->n_secret_parts = 0;
	for (size_t i = 0; i < src->n_secret_parts; i++)
		cfgk_kv_add_secret_part(dst, src->secret_parts[i]);
}

void cfgk_kv_add_secret_part(struct cfg_kv *kv, const char *text)
{
	if (!*text)
		return;
	kv->secret_parts =
	    xrealloc(kv->secret_parts, (kv->n_secret_parts + 1) * sizeof *kv->secret_parts);
	kv->secret_parts[kv->n_secret_parts++] = xstrdup(text);
}

void cfgk_sink_free(struct cfg_sink *s)
{
	for (size_t i = 0; i < s->n_keys; i++)
		cfgk_kv_free(&s->keys[i]);
	free(s->keys);
	free(s->name);
	memset(s, 0, sizeof *s);
}

/* ---- [job NAME] ---- */

/* getpwnam goes through NSS and can be slow; thousands of jobs share a few users. */
static struct {
	char **names;
	bool *exists;
	size_t n;
} user_cache;

void cfgk_reset_cache(void)
{
	for (size_t i = 0; i < user_cache.n; i++)
		free(user_cache.names[i]);
	free(user_cache.names);
	free(user_cache.exists);
	memset(&user_cache, 0, sizeof user_cache);
}

static bool user_exists(const char *name)
{
	for (size_t i = 0; i < user_cache.n; i++)
		if (strcmp(user_cache.names[i], name) == 0)
			return user_cache.exists[i];
	errno = 0;
	bool ok = getpwnam(name) != NULL;
	size_t n = user_cache.n + 1;
	user_cache.names = xrealloc(user_cache.names, n * sizeof *user_cache.names);
	user_cache.exists = xrealloc(user_cache.exists, n * sizeof *user_cache.exists);
	user_cache.names[n - 1] = xstrdup(name);
	user_cache.exists[n - 1] = ok;
	user_cache.n = n;
	return ok;
}

bool cfg_plugin_name_valid(const char *v)
{
	if (!*v)
		return false;
	for (; *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= '0' && *v <= '9') || *v == '_' ||
		      *v == '-'))
			return false;
	return true;
}

static bool has_key(const struct cfgk_section *s, const char *key)
{
	for (size_t i = 0; i < s->n_kv; i++)
		if (strcmp(s->kv[i].key, key) == 0)
			return true;
	return false;
}

static int pick(const char *v, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0)
			return i;
	return -1;
}

void cfgk_job(struct cfg_loader *L, const struct cfgk_section *s, const struct cfg_daemon *d,
              struct cfg_job *j)
{
	static const char *const overlaps[] = {"skip", "queue", "replace"};
	static const char *const catchups[] = {"none", "latest", "all"};
	memset(j, 0, sizeof *j);
	j->name = xstrdup(s->name);
	j->origin = s->origin;
	j->enabled = true;
	j->overlap = CFG_OVERLAP_SKIP;
	j->catchup = CFG_CATCHUP_LATEST;
	j->retry_delay = 30;
	const struct cfg_kv *tzkv = NULL, *notify = NULL;
	size_t n_opts = 0;
	for (size_t i = 0; i < s->n_kv; i++) {
		const struct cfg_kv *kv = &s->kv[i];
		const char *k = kv->key, *v = kv->value;
		char err[256];
		int e;
		if (strcmp(k, "plugin") == 0) {
			if (cfg_plugin_name_valid(v)) {
				set_str(&j->plugin, v);
				j->plugin_origin = kv->origin;
			} else
				bad(L, s, kv, "a plugin name made of a-z 0-9 _ -");
		} else if (strcmp(k, "schedule") == 0) {
			if (cron_parse(v, &j->schedule, err, sizeof err) == 0)
				set_str(&j->schedule_text, v);
			else
				bad_msg(L, s, kv, err, "a cron expression");
		} else if (strcmp(k, "timezone") == 0) {
			tzkv = kv;
		} else if (strcmp(k, "enabled") == 0) {
			if (!parse_bool(v, &j->enabled))
				bad(L, s, kv, "yes or no (true/false, on/off, 1/0)");
		} else if (strcmp(k, "timeout") == 0) {
			get_duration(L, s, kv, &j->timeout);
		} else if (strcmp(k, "overlap") == 0) {
			if ((e = pick(v, overlaps, 3)) < 0)
				bad(L, s, kv, "skip, queue or replace");
			else
				j->overlap = (enum cfg_overlap)e;
		} else if (strcmp(k, "catchup") == 0) {
			if ((e = pick(v, catchups, 3)) < 0)
				bad(L, s, kv, "none, latest or all");
			else
				j->catchup = (enum cfg_catchup)e;
		} else if (strcmp(k, "catchup_max") == 0) {
			get_uint(L, s, kv, 0, UINT_MAX, &j->catchup_max);
		} else if (strcmp(k, "catchup_within") == 0) {
			get_duration(L, s, kv, &j->catchup_within);
		} else if (strcmp(k, "jitter") == 0) {
			get_duration(L, s, kv, &j->jitter);
		} else if (strcmp(k, "retries") == 0) {
			get_uint(L, s, kv, 0, 100, &j->retries);
		} else if (strcmp(k, "retry_delay") == 0) {
			get_duration(L, s, kv, &j->retry_delay);
		} else if (strcmp(k, "memory_limit") == 0) {
			if (strcmp(v, "0") != 0 &&
			    units_parse_size(v, &j->memory_limit, err, sizeof err) < 0)
				bad_msg(L, s, kv, err, "a size such as 512M or 2G (0 = none)");
		} else if (strcmp(k, "cpu_limit") == 0) {
			get_duration(L, s, kv, &j->cpu_limit);
		} else if (strcmp(k, "user") == 0) {
			if (!*v) {
				free(j->user); /* empty = the daemon's user */
				j->user = NULL;
			} else if (!user_exists(v)) {
				if (kv->from_reference)
					bad(L, s, kv, "an existing user name");
				else
					cfgl_error(L, &kv->origin, s, k, "no such user '%s'", v);
			} else {
				set_str(&j->user, v);
			}
		} else if (strcmp(k, "notify") == 0) {
			notify = kv;
		} else if (strcmp(k, "description") == 0) {
			set_str(&j->description, v);
		} else {
			n_opts++;
		}
	}

	if (tzkv) {
		j->tz = get_zone(L, s, tzkv);
		j->timezone = xstrdup(tzkv->value);
	} else {
		j->tz = d->tz;
		j->timezone = xstrdup(d->timezone);
	}
	if (notify) {
		get_notify(L, s, notify, &j->notify, &j->n_notify);
	} else {
		j->notify = copy_notify(d->notify, d->n_notify);
		j->n_notify = d->n_notify;
	}

	/* Plugin keys are kept with their origin: they are checked against the plugin's
	 * option schema once the plugin is known. */
	if (n_opts) {
		j->options = xrealloc(NULL, n_opts * sizeof *j->options);
		for (size_t i = 0; i < s->n_kv; i++) {
			const struct cfg_kv *kv = &s->kv[i];
			static const char *const known[] = {
			    "plugin",  "schedule",    "timezone",     "enabled",        "timeout",
			    "overlap", "catchup",     "catchup_max",  "catchup_within", "jitter",
			    "retries", "retry_delay", "memory_limit", "cpu_limit",      "user",
			    "notify",  "description"};
			if (pick(kv->key, known, (int)(sizeof known / sizeof *known)) >= 0)
				continue;
			cfgk_kv_copy(&j->options[j->n_options++], kv);
		}
	}

	if (j->enabled) {
		if (!j->plugin && !has_key(s, "plugin"))
			cfgl_error(L, &s->origin, s, "plugin",
			           "required for an enabled job (or set enabled = no)");
		if (!j->schedule_text && !has_key(s, "schedule"))
			cfgl_error(L, &s->origin, s, "schedule",
			           "required for an enabled job, e.g. schedule = 0 3 * * * (or "
			           "@daily, or manual)");
	}
}

void cfgk_job_free(struct cfg_job *j)
{
	free(j->name);
	free(j->plugin);
	free(j->schedule_text);
	free(j->timezone);
	free(j->user);
	free_notify(j->notify, j->n_notify);
	free(j->description);
	for (size_t i = 0; i < j->n_options; i++)
		cfgk_kv_free(&j->options[i]);
	free(j->options);
	memset(j, 0, sizeof *j);
}
