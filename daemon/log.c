/* Daemon logging on stderr: syslog-prefixed text, terminal text or JSON lines. */
#include "log.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "strbuf.h"

enum line_style { STYLE_PREFIX, STYLE_TTY, STYLE_JSON };

static enum log_format log_format = LOG_FORMAT_TEXT;
static enum line_style log_style = STYLE_PREFIX;
static int log_max = LOG_L_INFO;

static const char *const level_names[8] = {"emerg",   "alert",  "crit", "err",
                                           "warning", "notice", "info", "debug"};

/* True when fd 2 is the very stream journald handed us ($JOURNAL_STREAM = "dev:ino"):
 * the variable alone is inherited by children and proves nothing. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_setup(enum log_format fmt, int max_level)
{
	log_format = fmt;
	log_max = max_level;
	if (fmt == LOG_FORMAT_JSON)
		log_style = STYLE_JSON;
	else if (stderr_is_journal() || !isatty(2))
		log_style = STYLE_PREFIX;
	else
		log_style = STYLE_TTY;
}

int log_format_parse(const char *text, enum log_format *out)
{
	if (strcmp(text, "text") == 0)
		*out = LOG_FORMAT_TEXT;
	else if (strcmp(text, "json") == 0)
		*out = LOG_FORMAT_JSON;
	else
		return -1;
	return 0;
}

enum log_format log_get_format(void)
{
	return log_format;
}

bool log_enabled(int level)
{
	return level <= log_max;
}

static void timestamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* One write per line so concurrent writers (runners share nothing, but a shell capturing
 * stderr might) never interleave halves. */
static void emit(int level, const char *msg, struct json_object *fields)
{
	static struct json_object *empty;
	if (!empty)
		empty = json_object_new_object(); /* lives as long as the process */
	if (level < 0)
		level = 0;
	if (level > 7)
		level = 7;
	struct strbuf sb = STRBUF_INIT;
	char ts[40];
	if (log_style == STYLE_JSON) {
		struct json_object *o = json_object_new_object();
		timestamp(ts, sizeof ts);
		json_object_object_add(o, "ts", json_object_new_string(ts));
		json_object_object_add(o, "level", json_object_new_string(level_names[level]));
		json_object_object_add(o, "priority", json_object_new_int(level));
		json_object_object_add(o, "msg", json_object_new_string(msg));
		for (struct json_object_iterator
		         it = json_object_iter_begin(fields ? fields : empty),
		         end = json_object_iter_end(fields ? fields : empty);
		     !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
			json_object_object_add(o, json_object_iter_peek_name(&it),
			                       json_object_get(json_object_iter_peek_value(&it)));
		strbuf_append(&sb, json_object_to_json_string_ext(
		                       o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		if (log_style == STYLE_TTY) {
			timestamp(ts, sizeof ts);
			strbuf_appendf(&sb, "%s %s: ", ts, level_names[level]);
		} else {
			strbuf_appendf(&sb, "<%d>", level);
		}
		/* A message is one line: embedded newlines would lose their priority. */
		for (const char *p = msg; *p; p++)
			strbuf_appendn(&sb, *p == '\n' ? " " : p, 1);
		for (struct json_object_iterator
		         it = json_object_iter_begin(fields ? fields : empty),
		         end = json_object_iter_end(fields ? fields : empty);
		     !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
			struct json_object *fv = json_object_iter_peek_value(&it);
			const char *text =
			    json_object_is_type(fv, json_type_string)
			        ? json_object_get_string(fv)
			        : json_object_to_json_string_ext(fv, JSON_C_TO_STRING_PLAIN);
			strbuf_appendf(&sb, " %s=%s", json_object_iter_peek_name(&it), text);
		}
	}
	strbuf_append(&sb, "\n");
	ssize_t w = write(2, sb.buf, sb.len);
	(void)w;
	strbuf_free(&sb);
}

void log_vmsg(int level, const char *fmt, va_list ap)
{
	if (!log_enabled(level))
		return;
	struct strbuf sb = STRBUF_INIT;
	strbuf_vappendf(&sb, fmt, ap);
	emit(level, strbuf_str(&sb), NULL);
	strbuf_free(&sb);
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void log_fields(int level, const char *msg, struct json_object *fields)
{
	if (log_enabled(level))
		emit(level, msg, fields);
}
