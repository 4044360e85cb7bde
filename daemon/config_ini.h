/* Internals of the configuration loader (config.c), not used elsewhere:
 *  - the INI reader (config_ini.c): one file's bytes -> sections and key/value entries with
 *    line numbers, syntax checks only;
 *  - the typed key tables (config_keys.c): merged, reference-expanded sections -> the
 *    fields of struct cfg, with every error reported through the loader. */
#ifndef CHORED_CONFIG_INI_H
#define CHORED_CONFIG_INI_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* ---- INI reader ---------------------------------------------------------------------- */

/* Longest accepted line, without its line ending. Longer lines are an error, never cut. */
#define INI_MAX_LINE 65536
/* Longest section name: [job NAME], [notify NAME]. */
#define INI_MAX_NAME 64

struct ini_entry {
	char *key;   /* owned */
	char *value; /* owned; trimmed, one pair of enclosing double quotes removed */
	unsigned line;
};

/* One section header and the entries under it. A section repeated in one file yields
 * two ini_sections; merging is the loader's business. */
struct ini_section {
	char *type; /* owned: "daemon", "job", … (the reader does not judge it) */
	char *name; /* owned; NULL for [daemon] and [secrets] */
	unsigned line;
	struct ini_entry *entries; /* owned */
	size_t n_entries;
	size_t cap_entries;
};

struct ini_doc {
	struct ini_section *sections; /* owned */
	size_t n_sections;
	size_t cap_sections;
};

/* Called once per syntax error. type/name describe the enclosing section (NULL when
 * there is none), key the key if one was read. msg never contains a value. */
typedef void ini_error_fn(void *ctx, unsigned line, const char *type, const char *name,
                          const char *key, const char *msg);

/* Parses data[0..len) (need not be NUL-terminated). Entries under a malformed section
 * header are dropped so that one typo gives one error. Returns the number of errors;
 * out is filled with what was valid either way (free it with ini_doc_free). */
size_t ini_parse(const char *data, size_t len, struct ini_doc *out, ini_error_fn *on_error,
                 void *ctx);
void ini_doc_free(struct ini_doc *doc);

/* True when s is a non-empty run of [A-Za-z0-9_.-]. */
bool ini_is_name(const char *s);

/* ---- typed keys (config_keys.c) ------------------------------------------------------ */

enum cfgk_kind { CFGK_DAEMON, CFGK_JOB, CFGK_NOTIFY, CFGK_SECRETS };

/* A section after merging all files and expanding references. Owned by the loader. */
struct cfgk_section {
	enum cfgk_kind kind;
	const char *name;         /* NULL for [daemon] and [secrets] */
	struct cfg_origin origin; /* where the header first appeared */
	struct cfg_kv *kv;        /* expanded values, in order of first appearance */
	size_t n_kv;
};

/* The loader's state as seen by the key tables (defined in config.c). */
struct cfg_loader;

/* Reports "FILE:LINE: [SECTION] KEY: message" (key may be NULL). Never pass a value that
 * came from a reference or a secret key in the message. */
void cfgl_error(struct cfg_loader *L, const struct cfg_origin *at, const struct cfgk_section *s,
                const char *key, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* True when a [notify NAME] section exists (valid or not). */
bool cfgl_has_sink(const struct cfg_loader *L, const char *name);

/* Section type -> kind, or -1 for an unknown type. */
int cfgk_kind_of(const char *type);
/* Keys whose value must be given as references only (admin_token, password, api_key, token). */
bool cfgk_is_secret_key(enum cfgk_kind kind, const char *key);

/* Each fills *out from s (NULL = section absent: defaults only) and reports every problem
 * through L. The output owns copies of everything; free it with the matching _free even
 * after errors. */
void cfgk_daemon(struct cfg_loader *L, const struct cfgk_section *s, struct cfg_daemon *out);
void cfgk_sink(struct cfg_loader *L, const struct cfgk_section *s, struct cfg_sink *out);
/* d supplies the defaults for timezone and notify. */
void cfgk_job(struct cfg_loader *L, const struct cfgk_section *s, const struct cfg_daemon *d,
              struct cfg_job *out);
void cfgk_daemon_free(struct cfg_daemon *d);
void cfgk_sink_free(struct cfg_sink *s);
void cfgk_job_free(struct cfg_job *j);
void cfgk_kv_free(struct cfg_kv *kv);
/* *dst becomes a deep copy of *src (key, value and secret parts). */
void cfgk_kv_copy(struct cfg_kv *dst, const struct cfg_kv *src);
/* Records one secret text expanded into kv->value (copied). */
void cfgk_kv_add_secret_part(struct cfg_kv *kv, const char *text);
/* Drops the getpwnam cache kept during one load. */
void cfgk_reset_cache(void);

#endif
