/* The daemon's own log (design §10, ecosystem conventions §4.4): one line per message on
 * stderr. Text format: "<N>message" (syslog priority prefix that journald strips) when
 * stderr is the journal or not a terminal, "2026-01-01T00:00:00.000Z info: message" on a
 * terminal. JSON format (--log-format=json): one object per line with ts, level, priority,
 * msg and the message's fields. Never give a secret to these functions. */
#ifndef CHORED_LOG_H
#define CHORED_LOG_H

#include <stdarg.h>
#include <stdbool.h>

struct json_object;

enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* Syslog priorities (as in sd-daemon(3) SD_ERR … SD_DEBUG). */
enum { LOG_L_ERR = 3, LOG_L_WARNING = 4, LOG_L_NOTICE = 5, LOG_L_INFO = 6, LOG_L_DEBUG = 7 };

/* Picks the line format from the format, $JOURNAL_STREAM and isatty(2); messages above
 * max_level are dropped (LOG_L_INFO by default, LOG_L_DEBUG with --debug). */
void log_setup(enum log_format fmt, int max_level);
/* Parses "text" / "json"; returns -1 on anything else. */
int log_format_parse(const char *text, enum log_format *out);
enum log_format log_get_format(void);
bool log_enabled(int level);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(int level, const char *fmt, va_list ap);
/* A message with structured fields (a JSON object, borrowed; may be NULL). Text format
 * appends them as " key=value". */
void log_fields(int level, const char *msg, struct json_object *fields);

#endif
