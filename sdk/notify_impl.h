/* Internals of the notify service of libchored, shared by sdk/notify*.c. Not installed.
 * Pure parts (policy, subject, idempotency key, MIME message) take no job, so unit tests
 * compile sdk/notify_policy.c and sdk/notify_mime.c on their own. */
#ifndef CHORED_NOTIFY_IMPL_H
#define CHORED_NOTIFY_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chored/job.h"
#include "job_private.h"
#include "notify_sink.h"

/* Bounds of the copy of the run's warning and error lines kept for the default report. */
#define NOTIFY_LOG_MAX_LINES 20
#define NOTIFY_LOG_MAX_BYTES 4096

/* The run's notification context (struct chored_job.notify), made by chored__notify_setup
 * from the input document and freed by job_notify_free. */
struct job_notify {
	struct json_object *doc_notify; /* owned reference: the input's "notify" array */
	struct notify_sink *sinks;      /* owned array; its strings are borrowed from doc_notify */
	size_t n_sinks;
	char *previous_status; /* owned; NULL: no previous run (a first run) */
	char *state_dir;       /* owned; never NULL */
	bool notified;         /* chored_notify was called: no default report */
	char *status_word;     /* owned; NULL: the report's status name (see
	                        * chored__notify_set_status_word) */
	/* The host's emit function, wrapped to keep the run's warnings and errors. */
	chored__emit_fn inner_emit;
	void *inner_data;
	char *log; /* owned: "LEVEL: message\n" lines, at most NOTIFY_LOG_MAX_BYTES */
	size_t log_len;
	unsigned log_lines;
	unsigned log_dropped; /* lines not kept past the bounds */
};

/* ---- sdk/notify_policy.c (pure) ---- */

/* "ok", "partial", "failed". */
const char *notify_status_name(enum chored_status st);
/* True when a sink with `policy` wants a report of `status` ("ok", "partial", "failed")
 * given the previous run's status (NULL: none, so on-change fires). Unknown policies are
 * treated as the default, on-failure. */
bool notify_policy_wants(const char *policy, const char *status, const char *previous);
/* "[chored] ✅ JOB: ok — SUMMARY" (the " — SUMMARY" only when summary is non-empty).
 * New malloc'd string. */
char *notify_subject(const char *job, enum chored_status st, const char *summary);
/* notify_subject with `word` ("crashed", "timeout", "missed") in place of the status name;
 * the mark still follows `st`. word NULL: notify_subject. New malloc'd string. */
char *notify_subject_word(const char *job, enum chored_status st, const char *word,
                          const char *summary);
/* "chored/JOB/2026-03-01T00:00:00Z/SINK", at most 256 bytes (a longer one is replaced by
 * "chored/" and the SHA-256 hex of it). New malloc'd string. */
char *notify_idempotency_key(const char *job, int64_t nominal, const char *sink);

/* ---- sdk/notify_mime.c (pure) ---- */

/* `text` as an RFC 2047 header value: unchanged when it is printable ASCII without "=?",
 * else UTF-8 "B" encoded words of at most 75 characters (never splitting a character)
 * joined by `eol` and a space (folding). New malloc'd string. */
char *notify_rfc2047(const char *text, const char *eol);
/* Splits an address list separated by blanks and/or commas into a NULL-terminated array
 * of malloc'd strings (free with notify_strv_free). *n gets the count. */
char **notify_split_addrs(const char *list, size_t *n);
void notify_strv_free(char **v);

struct notify_mail {
	const char *from;       /* header value, an address */
	const char *to;         /* header value, one or more addresses separated by ", " */
	const char *subject;    /* UTF-8, encoded here */
	int64_t date;           /* UTC seconds */
	const char *message_id; /* "<…@host>" */
	const char *boundary;   /* MIME boundary: must not occur in the base64 parts (it has '=') */
	const char *text;       /* text/plain part, UTF-8 */
	const char *html;       /* text/html part, UTF-8 */
};
/* The whole RFC 5322 message, lines ended by `eol` ("\n" in a Maildir, "\r\n" over SMTP):
 * headers, then multipart/alternative with both parts base64-encoded. New malloc'd string. */
char *notify_mime_message(const struct notify_mail *m, const char *eol);
/* RFC 5322 date "Mon, 02 Mar 2026 08:00:00 +0000" into buf (at least 32 bytes). */
void notify_rfc5322_date(int64_t t, char *buf, size_t len);

/* ---- sdk/notify_mail.c: what outbox and smtp share ---- */

/* The host name for From and Message-ID ("localhost" when unknown), into buf. */
void notify_hostname(char *buf, size_t len);
/* Renders `r` and builds the message for `to` (NULL: the outbox's local recipient) from
 * `from` (NULL: chored@HOSTNAME). Returns a malloc'd message or NULL with err set. */
char *notify_build_mail(struct chored_job *job, const struct chored_report *r, const char *subject,
                        const char *from, const char *to, const char *eol, char *err,
                        size_t errlen);
/* `n` random bytes as lower-case hex into buf (2n + 1 bytes). */
void notify_random_hex(char *buf, size_t n);

/* A sink key's value (a string), or NULL when unset. */
const char *notify_key(const struct notify_sink *sink, const char *key);

#endif
