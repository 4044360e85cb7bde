/* The plugin registry's loader (design §7): which files of plugin_dir are plugins, and
 * the checks a plugin passes before anything in it is trusted. Every refusal names the
 * file and what was wrong; a refused file never stops the others. */
#include "plugins.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "plugins_value.h"
#include "strbuf.h"
#include "xalloc.h"

/* struct chored_plugin as ABI 1.0 defined it: every member up to and including cancel. */
#define PLUGIN_V1_0_SIZE (offsetof(struct chored_plugin, cancel) + sizeof(void (*)(void)))

/* Tables longer than this are taken as missing their terminator. */
#define TABLE_MAX 1000

/* Sets p->error to "PATH: message". */
static void refuse(struct plugin *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refuse(struct plugin *p, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_appendf(&sb, "%s: ", p->path);
	va_list ap;
	va_start(ap, fmt);
	strbuf_vappendf(&sb, fmt, ap);
	va_end(ap);
	p->error = strbuf_detach(&sb);
}

static bool is_key_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return false;
	return true;
}

/* The option schema and command table are well formed; refuses p otherwise. */
static bool schema_ok(struct plugin *p, const struct chored_plugin *d)
{
	size_t n = 0;
	for (const struct chored_option *o = d->options; o && o->key; o++, n++) {
		if (n == TABLE_MAX) {
			refuse(p,
			       "more than %d options (is the table ended by an entry with key "
			       "NULL?)",
			       TABLE_MAX);
			return false;
		}
		if (!is_key_name(o->key)) {
			refuse(p, "option %zu: key '%s' is not a key name (A-Z a-z 0-9 _ . -)",
			       n + 1, o->key);
			return false;
		}
		for (const struct chored_option *q = d->options; q != o; q++)
			if (strcmp(q->key, o->key) == 0) {
				refuse(p, "option '%s': duplicate key", o->key);
				return false;
			}
		if (!plugin_type_known(o->type)) {
			refuse(p, "option '%s': unknown type %u", o->key, (unsigned)o->type);
			return false;
		}
		if (o->flags & ~(CHORED_OPT_REQUIRED | CHORED_OPT_SECRET | CHORED_OPT_JOB)) {
			refuse(p, "option '%s': unknown flags 0x%x", o->key,
			       o->flags &
			           ~(CHORED_OPT_REQUIRED | CHORED_OPT_SECRET | CHORED_OPT_JOB));
			return false;
		}
		const char *expected;
		if (o->def && (o->flags & CHORED_OPT_SECRET)) {
			refuse(p, "option '%s': a secret option cannot have a default", o->key);
			return false;
		}
		if (o->def && !plugin_value_valid(o->type, o->def, &expected)) {
			refuse(p, "option '%s': default '%s' is not valid; expected %s", o->key,
			       o->def, expected);
			return false;
		}
	}
	n = 0;
	for (const struct chored_command *c = d->commands; c && c->name; c++, n++) {
		if (n == TABLE_MAX) {
			refuse(p,
			       "more than %d commands (is the table ended by an entry with "
			       "name NULL?)",
			       TABLE_MAX);
			return false;
		}
		if (!is_key_name(c->name) || c->name[0] == '-') {
			refuse(p, "command %zu: name '%s' is not a command name", n + 1, c->name);
			return false;
		}
		if (!c->fn) {
			refuse(p, "command '%s': fn is not set", c->name);
			return false;
		}
		for (const struct chored_command *q = d->commands; q != c; q++)
			if (strcmp(q->name, c->name) == 0) {
				refuse(p, "command '%s': duplicate name", c->name);
				return false;
			}
	}
	return true;
}

/* The ABI fields first (nothing else is read before they pass), then the rest. */
static bool descriptor_ok(struct plugin *p, const struct chored_plugin *d)
{
	if (d->abi_major != CHORED_ABI_MAJOR) {
		refuse(p, "abi_major is %u, this chored supports %u", (unsigned)d->abi_major,
		       (unsigned)CHORED_ABI_MAJOR);
		return false;
	}
	if (d->abi_minor > CHORED_ABI_MINOR) {
		refuse(p, "abi_minor is %u, this chored supports up to %u", (unsigned)d->abi_minor,
		       (unsigned)CHORED_ABI_MINOR);
		return false;
	}
	if (d->size < PLUGIN_V1_0_SIZE) {
		refuse(p, "size is %u, expected at least %zu", (unsigned)d->size,
		       (size_t)PLUGIN_V1_0_SIZE);
		return false;
	}
	if (!d->name) {
		refuse(p, "name is not set, expected '%s' (the file name without .so)", p->name);
		return false;
	}
	if (strcmp(d->name, p->name) != 0) {
		refuse(p, "name is '%s', expected '%s' (the file name without .so)", d->name,
		       p->name);
		return false;
	}
	if (!d->run) {
		refuse(p, "run is not set");
		return false;
	}
	return schema_ok(p, d);
}

/* The file itself: a regular file (a symlink only to one), owned by root or by us, not
 * writable by group or others — anyone who can write it can run code as chored. */
static bool file_ok(struct plugin *p)
{
	struct stat st;
	if (lstat(p->path, &st) != 0) {
		refuse(p, "cannot stat: %s", strerror(errno));
		return false;
	}
	if (S_ISLNK(st.st_mode) && stat(p->path, &st) != 0) {
		refuse(p, "symlink to nothing: %s", strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		refuse(p, "not a regular file%s", S_ISDIR(st.st_mode) ? " (a directory)" : "");
		return false;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		refuse(p, "owned by uid %u; expected root or uid %u", (unsigned)st.st_uid,
		       (unsigned)geteuid());
		return false;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		refuse(p, "group- or world-writable (mode %04o)", (unsigned)(st.st_mode & 07777));
		return false;
	}
	return true;
}

static void load_one(struct plugin *p)
{
	if (!cfg_plugin_name_valid(p->name)) {
		refuse(p, "'%s' is not a plugin name (a-z 0-9 _ -)", p->name);
		return;
	}
	if (!file_ok(p))
		return;
	dlerror();
	p->dl = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
	if (!p->dl) {
		const char *e = dlerror();
		refuse(p, "cannot load: %s", e ? e : "unknown error");
		return;
	}
	dlerror();
	const struct chored_plugin *d = dlsym(p->dl, "chored_plugin_v1");
	if (!d) {
		refuse(p, "no symbol chored_plugin_v1 (not a chored plugin)");
	} else if (descriptor_ok(p, d)) {
		p->desc = d;
		return;
	}
	dlclose(p->dl);
	p->dl = NULL;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct plugin *)a)->name, ((const struct plugin *)b)->name);
}

int plugin_set_load(const char *dir, struct plugin_set **out, char *err, size_t errlen)
{
	*out = NULL;
	char *abs = realpath(dir, NULL);
	DIR *d = abs ? opendir(abs) : NULL;
	if (!d) {
		snprintf(err, errlen, "%s: cannot read the plugin directory: %s", dir,
		         strerror(errno));
		free(abs);
		return -1;
	}
	struct plugin_set *set = xcalloc(1, sizeof *set);
	set->dir = xstrdup(dir);
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		/* Hidden files (editors' .#x.so, half-copied .x.so) are not plugins. */
		if (len <= 3 || e->d_name[0] == '.' || strcmp(e->d_name + len - 3, ".so") != 0)
			continue;
		if (set->n == cap) {
			cap = cap ? 2 * cap : 8;
			set->plugins = xrealloc(set->plugins, cap * sizeof *set->plugins);
		}
		struct plugin *p = &set->plugins[set->n++];
		memset(p, 0, sizeof *p);
		p->name = xstrndup(e->d_name, len - 3);
		struct strbuf path = STRBUF_INIT;
		strbuf_appendf(&path, "%s/%s", abs, e->d_name);
		p->path = strbuf_detach(&path);
	}
	closedir(d);
	free(abs);
	if (set->n)
		qsort(set->plugins, set->n, sizeof *set->plugins, by_name);
	for (size_t i = 0; i < set->n; i++)
		load_one(&set->plugins[i]);
	*out = set;
	return 0;
}

void plugin_set_free(struct plugin_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++) {
		struct plugin *p = &set->plugins[i];
		if (p->dl)
			dlclose(p->dl);
		free(p->name);
		free(p->path);
		free(p->error);
	}
	free(set->plugins);
	free(set->dir);
	free(set);
}

const struct plugin *plugin_lookup(const struct plugin_set *set, const char *name)
{
	if (!set)
		return NULL;
	struct plugin key = {.name = (char *)name};
	return set->n ? bsearch(&key, set->plugins, set->n, sizeof *set->plugins, by_name) : NULL;
}

const struct plugin *plugin_find(const struct plugin_set *set, const char *name)
{
	const struct plugin *p = plugin_lookup(set, name);
	return p && p->desc ? p : NULL;
}
