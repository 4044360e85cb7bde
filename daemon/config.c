/* Configuration loading (design §4): find the files, check their ownership and modes,
 * parse each with the INI reader, merge key by key (later file wins), expand references,
 * then hand each section to the typed key tables. All errors are collected; the result is
 * either a complete struct cfg or nothing. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_ini.h"
#include "strbuf.h"
#include "xalloc.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

/* Caps that keep a hostile or mistaken file from exhausting memory; both are reported. */
#define MAX_CONFIG_FILE     (64u << 20)
#define MAX_REFERENCED_FILE (1u << 20)

const char *cfg_default_path(void)
{
	return SYSCONFDIR "/chored/chored.conf";
}

char *cfg_state_dir(const char *url)
{
	const char *path = NULL;
	if (url && strncmp(url, "sqlite://", 9) == 0)
		path = url + 9;
	else if (url && url[0] == '/')
		path = url;
	const char *slash = path ? strrchr(path, '/') : NULL;
	if (!slash)
		return xstrdup(LOCALSTATEDIR "/lib/chored");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* ---- string -> index hash table (open addressing; keys are borrowed) ---- */

struct htab {
	const char **keys;
	size_t *vals;
	size_t cap; /* power of two, or 0 */
	size_t n;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static bool ht_get(const struct htab *t, const char *key, size_t *val)
{
	if (!t->cap)
		return false;
	for (size_t i = hash_str(key) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (!t->keys[i])
			return false;
		if (strcmp(t->keys[i], key) == 0) {
			*val = t->vals[i];
			return true;
		}
	}
}

static void ht_put(struct htab *t, const char *key, size_t val);

static void ht_grow(struct htab *t)
{
	struct htab old = *t;
	t->cap = old.cap ? old.cap * 2 : 64;
	t->n = 0;
	t->keys = calloc(t->cap, sizeof *t->keys);
	t->vals = calloc(t->cap, sizeof *t->vals);
	if (!t->keys || !t->vals)
		abort();
	for (size_t i = 0; i < old.cap; i++)
		if (old.keys[i])
			ht_put(t, old.keys[i], old.vals[i]);
	free(old.keys);
	free(old.vals);
}

/* key must outlive the table and not already be present. */
static void ht_put(struct htab *t, const char *key, size_t val)
{
	if ((t->n + 1) * 2 > t->cap)
		ht_grow(t);
	size_t i = hash_str(key) & (t->cap - 1);
	while (t->keys[i])
		i = (i + 1) & (t->cap - 1);
	t->keys[i] = key;
	t->vals[i] = val;
	t->n++;
}

static void ht_free(struct htab *t)
{
	free(t->keys);
	free(t->vals);
	memset(t, 0, sizeof *t);
}

/* ---- the loader ---- */

/* A key as written (references not yet expanded), with where it was last set. */
struct raw_kv {
	char *key;
	char *value;
	struct cfg_origin origin;
};

struct raw_section {
	enum cfgk_kind kind;
	char *name; /* NULL for [daemon] and [secrets] */
	struct cfg_origin origin;
	struct raw_kv *kv; /* in order of first appearance */
	size_t n_kv, cap_kv;
};

struct error {
	char *text;
	size_t file; /* index into files (SIZE_MAX: not about one file) */
	unsigned line;
	size_t seq;
};

struct expanded_secret {
	char *value; /* NULL when its expansion failed (already reported) */
	bool from_reference;
};

struct cfg_loader {
	char **files; /* display paths, owned; origins point at these strings */
	size_t n_files;
	struct error *errors;
	size_t n_errors;

	struct raw_section daemon, secrets;
	bool has_daemon, has_secrets;
	struct raw_section *jobs;
	size_t n_jobs, cap_jobs;
	struct htab job_ix;
	struct raw_section *sinks;
	size_t n_sinks, cap_sinks;
	struct htab sink_ix;

	/* expanded [secrets], parallel to secrets.kv, looked up by name */
	struct expanded_secret *secret_vals;
	struct htab secret_ix;
};

static size_t file_index(const struct cfg_loader *L, const char *file)
{
	for (size_t i = L->n_files; i-- > 0;)
		if (L->files[i] == file)
			return i;
	return SIZE_MAX;
}

static void add_error(struct cfg_loader *L, size_t file, unsigned line, char *text)
{
	L->errors = xrealloc(L->errors, (L->n_errors + 1) * sizeof *L->errors);
	L->errors[L->n_errors] = (struct error){text, file, line, L->n_errors};
	L->n_errors++;
}

static void section_label(struct strbuf *sb, const char *type, const char *name)
{
	strbuf_appendf(sb, "[%s%s%s]", type, name ? " " : "", name ? name : "");
}

static const char *kind_name(enum cfgk_kind k)
{
	static const char *const n[] = {"daemon", "job", "notify", "secrets"};
	return n[k];
}

/* "FILE:LINE: [SECTION] KEY: " with the parts that are known. */
static void error_prefix(struct strbuf *sb, const char *file, unsigned line, const char *type,
                         const char *name, const char *key)
{
	strbuf_append(sb, file);
	if (line)
		strbuf_appendf(sb, ":%u", line);
	strbuf_append(sb, ": ");
	if (type) {
		section_label(sb, type, name);
		strbuf_append(sb, key ? " " : ": ");
	}
	if (key)
		strbuf_appendf(sb, "%s: ", key);
}

void cfgl_error(struct cfg_loader *L, const struct cfg_origin *at, const struct cfgk_section *s,
                const char *key, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	error_prefix(&sb, at->file, at->line, s ? kind_name(s->kind) : NULL, s ? s->name : NULL,
	             key);
	va_list ap;
	va_start(ap, fmt);
	strbuf_vappendf(&sb, fmt, ap);
	va_end(ap);
	add_error(L, file_index(L, at->file), at->line, strbuf_detach(&sb));
}

static void file_error(struct cfg_loader *L, size_t file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void file_error(struct cfg_loader *L, size_t file, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_appendf(&sb, "%s: ", L->files[file]);
	va_list ap;
	va_start(ap, fmt);
	strbuf_vappendf(&sb, fmt, ap);
	va_end(ap);
	add_error(L, file, 0, strbuf_detach(&sb));
}

bool cfgl_has_sink(const struct cfg_loader *L, const char *name)
{
	size_t i;
	return ht_get(&L->sink_ix, name, &i);
}

/* ---- finding the files ---- */

/* Drop-in names: [A-Za-z0-9_.-]+\.conf, not starting with '.'; this skips editor and
 * package-manager leftovers (*.conf.example, *.dpkg-old, *~, .#*) without special cases. */
static int dropin_filter(const struct dirent *d)
{
	const char *n = d->d_name;
	size_t len = strlen(n);
	if (n[0] == '.' || len <= 5 || strcmp(n + len - 5, ".conf") != 0)
		return 0;
	return ini_is_name(n);
}

/* Byte order, whatever the locale (alphasort would use strcoll). */
static int byte_order(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static char *strip_dot_slash(const char *p)
{
	while (p[0] == '.' && p[1] == '/' && p[2])
		p += 2;
	return xstrdup(p);
}

static size_t add_file(struct cfg_loader *L, char *display)
{
	L->files = xrealloc(L->files, (L->n_files + 1) * sizeof *L->files);
	L->files[L->n_files] = display;
	return L->n_files++;
}

/* ---- reading one file ---- */

struct file_data {
	char *data;
	size_t len;
	mode_t mode;
	uid_t uid;
};

/* Symlinks are followed (operators link drop-ins from elsewhere), but the file reached
 * must be a regular file with safe ownership and mode; /dev/null reads as empty (masking).
 * The checks use fstat on the opened descriptor, so they judge what is actually read. */
static bool read_config_file(struct cfg_loader *L, size_t fi, struct file_data *fd_out)
{
	const char *path = L->files[fi];
	memset(fd_out, 0, sizeof *fd_out);
	/* O_NONBLOCK: opening a FIFO must not hang the loader; it is refused below. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		file_error(L, fi, "cannot open: %s", strerror(errno));
		return false;
	}
	struct stat st, null_st;
	if (fstat(fd, &st) < 0) {
		file_error(L, fi, "cannot stat: %s", strerror(errno));
		close(fd);
		return false;
	}
	if (S_ISCHR(st.st_mode) && stat("/dev/null", &null_st) == 0 &&
	    st.st_rdev == null_st.st_rdev) {
		close(fd);
		fd_out->data = xstrdup("");
		fd_out->mode = 0600;
		return true;
	}
	if (!S_ISREG(st.st_mode)) {
		file_error(L, fi, "is not a regular file");
		close(fd);
		return false;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		file_error(L, fi, "is group- or world-writable (mode %04o); run chmod go-w on it",
		           (unsigned)(st.st_mode & 07777));
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		file_error(L, fi,
		           "is owned by uid %u; expected root or the user chored runs as (uid %u)",
		           (unsigned)st.st_uid, (unsigned)geteuid());
	}
	if ((uint64_t)st.st_size > MAX_CONFIG_FILE) {
		file_error(L, fi, "is %llu bytes; at most %u are read",
		           (unsigned long long)st.st_size, MAX_CONFIG_FILE);
		close(fd);
		return false;
	}
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *buf = xrealloc(NULL, cap);
	for (;;) {
		if (len == cap) {
			if (cap > MAX_CONFIG_FILE) {
				file_error(L, fi, "grew beyond %u bytes while being read",
				           MAX_CONFIG_FILE);
				free(buf);
				close(fd);
				return false;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			file_error(L, fi, "cannot read: %s", strerror(errno));
			free(buf);
			close(fd);
			return false;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	fd_out->data = buf;
	fd_out->len = len;
	fd_out->mode = st.st_mode & 07777;
	fd_out->uid = st.st_uid;
	/* A refused file is still parsed, so that one run reports every problem. */
	return true;
}

struct parse_ctx {
	struct cfg_loader *L;
	size_t file;
};

static void on_ini_error(void *vctx, unsigned line, const char *type, const char *name,
                         const char *key, const char *msg)
{
	struct parse_ctx *c = vctx;
	struct strbuf sb = STRBUF_INIT;
	error_prefix(&sb, c->L->files[c->file], line, type, name, key);
	strbuf_append(&sb, msg);
	add_error(c->L, c->file, line, strbuf_detach(&sb));
}

/* ---- merging ---- */

static struct raw_section *new_section(struct raw_section **arr, size_t *n, size_t *cap,
                                       enum cfgk_kind kind, const char *name, struct cfg_origin at)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		*arr = xrealloc(*arr, *cap * sizeof **arr);
	}
	struct raw_section *s = &(*arr)[(*n)++];
	memset(s, 0, sizeof *s);
	s->kind = kind;
	s->name = name ? xstrdup(name) : NULL;
	s->origin = at;
	return s;
}

static struct raw_section *find_or_add(struct cfg_loader *L, enum cfgk_kind kind, const char *name,
                                       struct cfg_origin at)
{
	struct raw_section **arr;
	size_t *n, *cap;
	struct htab *ix;
	switch (kind) {
	case CFGK_DAEMON:
	case CFGK_SECRETS: {
		bool *has = kind == CFGK_DAEMON ? &L->has_daemon : &L->has_secrets;
		struct raw_section *s = kind == CFGK_DAEMON ? &L->daemon : &L->secrets;
		if (!*has) {
			*has = true;
			s->kind = kind;
			s->origin = at;
		}
		return s;
	}
	case CFGK_JOB:
		arr = &L->jobs, n = &L->n_jobs, cap = &L->cap_jobs, ix = &L->job_ix;
		break;
	default:
		arr = &L->sinks, n = &L->n_sinks, cap = &L->cap_sinks, ix = &L->sink_ix;
		break;
	}
	size_t i;
	if (ht_get(ix, name, &i))
		return &(*arr)[i];
	struct raw_section *s = new_section(arr, n, cap, kind, name, at);
	/* The table keys point at the names, separate allocations that survive a realloc. */
	ht_put(ix, s->name, *n - 1);
	return s;
}

static void merge_entry(struct cfg_loader *L, struct raw_section *s, const char *type,
                        struct ini_entry *e, const char *file)
{
	for (size_t i = 0; i < s->n_kv; i++) {
		struct raw_kv *kv = &s->kv[i];
		if (strcmp(kv->key, e->key) != 0)
			continue;
		if (kv->origin.file == file) {
			struct strbuf sb = STRBUF_INIT;
			error_prefix(&sb, file, e->line, type, s->name, e->key);
			strbuf_appendf(&sb, "set twice in this file (first at line %u); keep one",
			               kv->origin.line);
			add_error(L, file_index(L, file), e->line, strbuf_detach(&sb));
			return;
		}
		free(kv->value);
		kv->value = e->value; /* taken over from the INI document */
		e->value = NULL;
		kv->origin = (struct cfg_origin){file, e->line};
		return;
	}
	if (s->n_kv == s->cap_kv) {
		s->cap_kv = s->cap_kv ? 2 * s->cap_kv : 8;
		s->kv = xrealloc(s->kv, s->cap_kv * sizeof *s->kv);
	}
	s->kv[s->n_kv++] = (struct raw_kv){e->key, e->value, {file, e->line}};
	e->key = e->value = NULL;
}

static void merge_doc(struct cfg_loader *L, size_t fi, struct ini_doc *doc)
{
	const char *file = L->files[fi];
	for (size_t i = 0; i < doc->n_sections; i++) {
		struct ini_section *is = &doc->sections[i];
		struct cfg_origin at = {file, is->line};
		int kind = cfgk_kind_of(is->type);
		struct strbuf sb = STRBUF_INIT;
		error_prefix(&sb, file, is->line, is->type, is->name, NULL);
		if (kind < 0) {
			strbuf_appendf(&sb,
			               "unknown section type '%s'; expected [daemon], [job NAME], "
			               "[notify NAME] or [secrets]",
			               is->type);
		} else if ((kind == CFGK_DAEMON || kind == CFGK_SECRETS) && is->name) {
			strbuf_appendf(&sb, "[%s] takes no name", is->type);
		} else if ((kind == CFGK_JOB || kind == CFGK_NOTIFY) && !is->name) {
			strbuf_appendf(&sb, "needs a name: [%s NAME]", is->type);
		} else {
			strbuf_free(&sb);
			struct raw_section *s = find_or_add(L, (enum cfgk_kind)kind, is->name, at);
			for (size_t j = 0; j < is->n_entries; j++)
				merge_entry(L, s, is->type, &is->entries[j], file);
			continue;
		}
		add_error(L, fi, is->line, strbuf_detach(&sb));
	}
}

static bool doc_has_secrets(const struct ini_doc *doc)
{
	for (size_t i = 0; i < doc->n_sections; i++)
		if (strcmp(doc->sections[i].type, "secrets") == 0)
			return true;
	return false;
}

static void load_file(struct cfg_loader *L, size_t fi)
{
	struct file_data fd;
	if (!read_config_file(L, fi, &fd))
		return;
	struct ini_doc doc;
	struct parse_ctx ctx = {L, fi};
	ini_parse(fd.data, fd.len, &doc, on_ini_error, &ctx);
	if (doc_has_secrets(&doc)) {
		bool owner_only = (fd.mode & 077) == 0;
		bool root_group = (fd.mode & 077) == 040 && fd.uid == 0;
		if (!owner_only && !root_group)
			file_error(
			    L, fi,
			    "holds [secrets] but has mode %04o; use 0600 (or 0640 owned by root)",
			    (unsigned)fd.mode);
	}
	merge_doc(L, fi, &doc);
	ini_doc_free(&doc);
	explicit_bzero(fd.data, fd.len); /* may hold secrets */
	free(fd.data);
}

static void load_files(struct cfg_loader *L, const char *main_path)
{
	size_t mi = add_file(L, strip_dot_slash(main_path));
	load_file(L, mi);

	/* conf.d sits beside the main file, whatever its name. */
	const char *slash = strrchr(main_path, '/');
	size_t plen = slash ? (size_t)(slash - main_path) + 1 : 0;
	struct strbuf dir = STRBUF_INIT;
	strbuf_appendn(&dir, main_path, plen);
	strbuf_append(&dir, "conf.d");
	struct dirent **names = NULL;
	int n = scandir(strbuf_str(&dir), &names, dropin_filter, byte_order);
	if (n < 0) {
		if (errno != ENOENT) {
			struct strbuf sb = STRBUF_INIT;
			char *shown = strip_dot_slash(strbuf_str(&dir));
			strbuf_appendf(&sb, "%s: cannot read the directory: %s", shown,
			               strerror(errno));
			free(shown);
			add_error(L, SIZE_MAX, 0, strbuf_detach(&sb));
		}
		strbuf_free(&dir);
		return;
	}
	for (int i = 0; i < n; i++) {
		struct strbuf p = STRBUF_INIT;
		strbuf_appendf(&p, "%s/%s", strbuf_str(&dir), names[i]->d_name);
		size_t fi = add_file(L, strip_dot_slash(strbuf_str(&p)));
		strbuf_free(&p);
		free(names[i]);
		load_file(L, fi);
	}
	free(names);
	strbuf_free(&dir);
}

/* ---- references ---- */

/* Reads a whole small file for ${file:} / ${credential:}; NULL with errno-style reason. */
static char *read_small(const char *path, const char **why)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		*why = strerror(errno);
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		close(fd);
		return NULL;
	}
	/* room for the content, its newline and one byte that reveals an oversized file */
	size_t limit = MAX_REFERENCED_FILE + 2, len = 0;
	size_t have = (size_t)st.st_size + 2 < limit ? (size_t)st.st_size + 2 : limit;
	char *buf = xrealloc(NULL, have + 1);
	for (;;) {
		if (len == have) {
			if (have == limit)
				break;
			have = 2 * have < limit ? 2 * have : limit;
			buf = xrealloc(buf, have + 1);
		}
		ssize_t r = read(fd, buf + len, have - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*why = strerror(errno);
			close(fd);
			explicit_bzero(buf, len);
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (len && buf[len - 1] == '\n')
		len--; /* files written by echo or an editor end in one newline */
	if (len > MAX_REFERENCED_FILE) {
		*why = "larger than 1 MiB";
		explicit_bzero(buf, len);
		free(buf);
		return NULL;
	}
	if (memchr(buf, '\0', len)) {
		*why = "contains a NUL byte";
		explicit_bzero(buf, len);
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/* True when raw is made of references only (no literal text, no "$${"). */
static bool only_references(const char *raw)
{
	const char *p = raw;
	while (*p) {
		if (p[0] != '$' || p[1] != '{')
			return false;
		const char *close = strchr(p + 2, '}');
		if (!close)
			return false;
		p = close + 1;
	}
	return true;
}

static const char *find_secret(struct cfg_loader *L, const char *name, bool *known)
{
	size_t i;
	*known = ht_get(&L->secret_ix, name, &i);
	return *known ? L->secret_vals[i].value : NULL;
}

/* True when `v` is exactly one ${secret:…}, ${file:…} or ${credential:…} reference. */
static bool is_single_secret_reference(const char *v)
{
	static const char *const kinds[] = {"${secret:", "${file:", "${credential:"};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		size_t n = strlen(kinds[i]);
		if (strncmp(v, kinds[i], n) == 0) {
			const char *close = strchr(v + n, '}');
			return close && close > v + n && close[1] == '\0';
		}
	}
	return false;
}

/* Expands every ${kind:arg} in raw->value into out. Returns false after reporting; no
 * message ever contains the value or anything read from a reference. */
static bool expand(struct cfg_loader *L, const struct cfgk_section *s, const struct raw_kv *raw,
                   bool in_secrets, struct cfg_kv *out)
{
	struct strbuf sb = STRBUF_INIT;
	const struct cfg_origin *at = &raw->origin;
	const char *p = raw->value;
	bool ok = true;
	memset(out, 0, sizeof *out);
	out->key = xstrdup(raw->key);
	out->origin = raw->origin;
	out->only_reference = is_single_secret_reference(raw->value);
	strbuf_append(&sb, ""); /* never NULL, even for an empty value */
	while (*p) {
		const char *d = strchr(p, '$');
		if (!d) {
			strbuf_append(&sb, p);
			break;
		}
		strbuf_appendn(&sb, p, (size_t)(d - p));
		if (d[1] == '$' && d[2] == '{') {
			strbuf_append(&sb, "${");
			p = d + 3;
			continue;
		}
		if (d[1] != '{') {
			strbuf_append(&sb, "$");
			p = d + 1;
			continue;
		}
		const char *body = d + 2, *close = strchr(body, '}');
		if (!close) {
			cfgl_error(
			    L, at, s, raw->key,
			    "unterminated reference: '${' without a closing '}' (write $${ for a "
			    "literal ${)");
			ok = false;
			break;
		}
		p = close + 1;
		const char *colon = memchr(body, ':', (size_t)(close - body));
		size_t klen = colon ? (size_t)(colon - body) : 0;
		char *arg = colon ? strndup(colon + 1, (size_t)(close - colon - 1)) : NULL;
		if (colon && !arg)
			abort();
		const char *kinds[] = {"secret", "env", "file", "credential"};
		int kind = -1;
		for (int i = 0; colon && i < 4; i++)
			if (strlen(kinds[i]) == klen && memcmp(body, kinds[i], klen) == 0)
				kind = i;
		if (kind < 0) {
			/* The reference text is not echoed: it may be a mistyped literal secret. */
			cfgl_error(
			    L, at, s, raw->key,
			    "unknown reference kind; expected ${secret:NAME}, ${env:NAME}, "
			    "${file:PATH} or ${credential:NAME} (write $${ for a literal ${)");
			ok = false;
			free(arg);
			continue;
		}
		bool arg_ok = kind == 2 ? arg[0] == '/' : ini_is_name(arg);
		if (!arg_ok) {
			cfgl_error(L, at, s, raw->key, "${%s:…} needs %s", kinds[kind],
			           kind == 2 ? "an absolute path"
			                     : "a name made of A-Z a-z 0-9 _ . -");
			ok = false;
			free(arg);
			continue;
		}
		const char *why = NULL;
		char *content = NULL;
		switch (kind) {
		case 0: {
			if (in_secrets) {
				cfgl_error(
				    L, at, s, raw->key,
				    "${secret:%s} cannot be used inside [secrets]; use ${env:}, "
				    "${file:} or ${credential:}",
				    arg);
				ok = false;
				break;
			}
			bool known;
			const char *v = find_secret(L, arg, &known);
			if (!known) {
				cfgl_error(L, at, s, raw->key,
				           "${secret:%s} is not defined in [secrets]", arg);
				ok = false;
			} else if (!v) {
				ok = false; /* its own error was reported */
			} else {
				strbuf_append(&sb, v);
				cfgk_kv_add_secret_part(out, v);
				out->secret = true;
			}
			break;
		}
		case 1: {
			const char *v = getenv(arg);
			if (!v) {
				cfgl_error(L, at, s, raw->key,
				           "${env:%s}: environment variable %s is not set", arg,
				           arg);
				ok = false;
			} else {
				strbuf_append(&sb, v);
			}
			break;
		}
		case 2:
			content = read_small(arg, &why);
			if (!content) {
				cfgl_error(L, at, s, raw->key, "${file:%s}: cannot read: %s", arg,
				           why);
				ok = false;
			}
			break;
		case 3: {
			const char *dir = getenv("CREDENTIALS_DIRECTORY");
			if (!dir || !*dir) {
				cfgl_error(
				    L, at, s, raw->key,
				    "${credential:%s}: $CREDENTIALS_DIRECTORY is not set (systemd "
				    "sets it for units with LoadCredential=)",
				    arg);
				ok = false;
				break;
			}
			struct strbuf path = STRBUF_INIT;
			strbuf_appendf(&path, "%s/%s", dir, arg);
			content = read_small(strbuf_str(&path), &why);
			strbuf_free(&path);
			if (!content) {
				cfgl_error(
				    L, at, s, raw->key,
				    "${credential:%s}: cannot read $CREDENTIALS_DIRECTORY/%s: %s",
				    arg, arg, why);
				ok = false;
			}
			break;
		}
		}
		if (content) {
			strbuf_append(&sb, content);
			cfgk_kv_add_secret_part(out, content);
			explicit_bzero(content, strlen(content));
			free(content);
			out->secret = true;
		}
		out->from_reference = true;
		free(arg);
	}
	if (!ok) {
		explicit_bzero(sb.buf, sb.len);
		strbuf_free(&sb);
		cfgk_kv_free(out);
		return false;
	}
	out->value = strbuf_detach(&sb);
	return true;
}

/* Expands a section's keys, applying the references-only rule to secret keys. Keys that
 * fail are left out (their error is reported), so later checks see only good values. */
static void expand_section(struct cfg_loader *L, const struct raw_section *r,
                           struct cfgk_section *out)
{
	out->kind = r->kind;
	out->name = r->name;
	out->origin = r->origin;
	out->kv = xrealloc(NULL, (r->n_kv ? r->n_kv : 1) * sizeof *out->kv);
	out->n_kv = 0;
	for (size_t i = 0; i < r->n_kv; i++) {
		const struct raw_kv *raw = &r->kv[i];
		if (cfgk_is_secret_key(r->kind, raw->key)) {
			if (!*raw->value)
				continue; /* empty = unset, so a drop-in can clear it */
			if (!only_references(raw->value)) {
				cfgl_error(L, &raw->origin, out, raw->key,
				           "must be a reference such as ${secret:NAME}; literal "
				           "secrets are refused");
				continue;
			}
		}
		if (expand(L, out, raw, false, &out->kv[out->n_kv]))
			out->n_kv++;
	}
}

static void free_expanded(struct cfgk_section *s)
{
	for (size_t i = 0; i < s->n_kv; i++)
		cfgk_kv_free(&s->kv[i]);
	free(s->kv);
	s->kv = NULL;
	s->n_kv = 0;
}

static void expand_secrets(struct cfg_loader *L)
{
	const struct raw_section *r = &L->secrets;
	L->secret_vals = xrealloc(NULL, (r->n_kv ? r->n_kv : 1) * sizeof *L->secret_vals);
	struct cfgk_section view = {CFGK_SECRETS, NULL, r->origin, NULL, 0};
	for (size_t i = 0; i < r->n_kv; i++) {
		struct cfg_kv kv;
		L->secret_vals[i].value = NULL;
		if (expand(L, &view, &r->kv[i], true, &kv)) {
			L->secret_vals[i].value = kv.value;
			L->secret_vals[i].from_reference = kv.from_reference;
			kv.value = NULL; /* moved */
			cfgk_kv_free(&kv);
		}
		ht_put(&L->secret_ix, r->kv[i].key, i);
	}
}

/* ---- assembling ---- */

static void raw_section_free(struct raw_section *s)
{
	for (size_t i = 0; i < s->n_kv; i++) {
		free(s->kv[i].key);
		if (s->kv[i].value) {
			explicit_bzero(s->kv[i].value, strlen(s->kv[i].value));
			free(s->kv[i].value);
		}
	}
	free(s->kv);
	free(s->name);
}

static void loader_free(struct cfg_loader *L)
{
	raw_section_free(&L->daemon);
	raw_section_free(&L->secrets);
	for (size_t i = 0; i < L->n_jobs; i++)
		raw_section_free(&L->jobs[i]);
	free(L->jobs);
	for (size_t i = 0; i < L->n_sinks; i++)
		raw_section_free(&L->sinks[i]);
	free(L->sinks);
	ht_free(&L->job_ix);
	ht_free(&L->sink_ix);
	ht_free(&L->secret_ix);
	for (size_t i = 0; L->secret_vals && i < L->secrets.n_kv; i++) {
		char *v = L->secret_vals[i].value;
		if (v) {
			explicit_bzero(v, strlen(v));
			free(v);
		}
	}
	free(L->secret_vals);
	for (size_t i = 0; i < L->n_errors; i++)
		free(L->errors[i].text);
	free(L->errors);
	if (L->files) {
		for (size_t i = 0; i < L->n_files; i++)
			free(L->files[i]);
		free(L->files);
	}
	cfgk_reset_cache();
}

static int error_order(const void *a, const void *b)
{
	const struct error *x = a, *y = b;
	/* errors not tied to one file first, then by file, line and the order found */
	size_t fx = x->file == SIZE_MAX ? 0 : x->file + 1,
	       fy = y->file == SIZE_MAX ? 0 : y->file + 1;
	if (fx != fy)
		return fx < fy ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static void fill_diag(struct cfg_loader *L, struct cfg_diag *diag)
{
	diag->n_files = L->n_files;
	diag->files = xrealloc(NULL, (L->n_files ? L->n_files : 1) * sizeof *diag->files);
	for (size_t i = 0; i < L->n_files; i++)
		diag->files[i] = xstrdup(L->files[i]);
	if (L->n_errors)
		qsort(L->errors, L->n_errors, sizeof *L->errors, error_order);
	diag->n_errors = L->n_errors;
	diag->errors = L->n_errors ? xrealloc(NULL, L->n_errors * sizeof *diag->errors) : NULL;
	for (size_t i = 0; i < L->n_errors; i++) {
		diag->errors[i] = L->errors[i].text; /* handed over */
		L->errors[i].text = NULL;
	}
}

int cfg_load(const char *main_path, struct cfg **out, struct cfg_diag *diag)
{
	*out = NULL;
	memset(diag, 0, sizeof *diag);
	if (!main_path)
		main_path = cfg_default_path();
	struct cfg_loader L;
	memset(&L, 0, sizeof L);
	cfgk_reset_cache();

	load_files(&L, main_path);
	expand_secrets(&L);

	struct cfg *c = calloc(1, sizeof *c);
	if (!c)
		abort();
	struct cfgk_section s;
	expand_section(&L, &L.daemon, &s);
	cfgk_daemon(&L, L.has_daemon ? &s : NULL, &c->daemon);
	free_expanded(&s);

	c->sinks = xrealloc(NULL, (L.n_sinks ? L.n_sinks : 1) * sizeof *c->sinks);
	for (size_t i = 0; i < L.n_sinks; i++) {
		expand_section(&L, &L.sinks[i], &s);
		cfgk_sink(&L, &s, &c->sinks[c->n_sinks++]);
		free_expanded(&s);
	}
	c->jobs = xrealloc(NULL, (L.n_jobs ? L.n_jobs : 1) * sizeof *c->jobs);
	for (size_t i = 0; i < L.n_jobs; i++) {
		expand_section(&L, &L.jobs[i], &s);
		cfgk_job(&L, &s, &c->daemon, &c->jobs[c->n_jobs++]);
		free_expanded(&s);
	}

	fill_diag(&L, diag);
	if (diag->n_errors) {
		cfg_free(c);
		loader_free(&L);
		return -1;
	}

	/* Success: the cfg takes the file names (origins point at them) and the secrets. */
	c->main_path = xstrdup(main_path);
	c->files = L.files;
	c->n_files = L.n_files;
	L.files = NULL;
	c->n_secrets = L.secrets.n_kv;
	c->secrets = xrealloc(NULL, (c->n_secrets ? c->n_secrets : 1) * sizeof *c->secrets);
	for (size_t i = 0; i < c->n_secrets; i++) {
		struct raw_kv *r = &L.secrets.kv[i];
		c->secrets[i] = (struct cfg_kv){.key = xstrdup(r->key),
		                                .value = L.secret_vals[i].value,
		                                .from_reference = L.secret_vals[i].from_reference,
		                                .secret = true,
		                                .origin = r->origin};
		L.secret_vals[i].value = NULL;
	}
	struct htab *ix = calloc(1, sizeof *ix);
	if (!ix)
		abort();
	for (size_t i = 0; i < c->n_jobs; i++)
		ht_put(ix, c->jobs[i].name, i);
	c->index = ix;
	loader_free(&L);
	*out = c;
	return 0;
}

void cfg_free(struct cfg *cfg)
{
	if (!cfg)
		return;
	cfgk_daemon_free(&cfg->daemon);
	for (size_t i = 0; i < cfg->n_jobs; i++)
		cfgk_job_free(&cfg->jobs[i]);
	free(cfg->jobs);
	for (size_t i = 0; i < cfg->n_sinks; i++)
		cfgk_sink_free(&cfg->sinks[i]);
	free(cfg->sinks);
	for (size_t i = 0; i < cfg->n_secrets; i++)
		cfgk_kv_free(&cfg->secrets[i]);
	free(cfg->secrets);
	if (cfg->index) {
		ht_free(cfg->index);
		free(cfg->index);
	}
	for (size_t i = 0; i < cfg->n_files; i++)
		free(cfg->files[i]);
	free(cfg->files);
	free(cfg->main_path);
	free(cfg);
}

void cfg_diag_free(struct cfg_diag *diag)
{
	for (size_t i = 0; i < diag->n_files; i++)
		free(diag->files[i]);
	free(diag->files);
	for (size_t i = 0; i < diag->n_errors; i++)
		free(diag->errors[i]);
	free(diag->errors);
	memset(diag, 0, sizeof *diag);
}

const struct cfg_job *cfg_find_job(const struct cfg *cfg, const char *name)
{
	size_t i;
	if (!cfg->index || !ht_get(cfg->index, name, &i))
		return NULL;
	return &cfg->jobs[i];
}

const char *cfg_secret(const struct cfg *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_secrets; i++)
		if (strcmp(cfg->secrets[i].key, name) == 0)
			return cfg->secrets[i].value;
	return NULL;
}
