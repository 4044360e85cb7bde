/* Text output helpers for chorectl's online verbs. */
#include "chored-build.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "chorectl_fmt.h"
#include "civil.h"
#include "strbuf.h"
#include "sysexits_compat.h"

const char *fmt_str(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

int64_t fmt_int(struct json_object *o, const char *key, int64_t def)
{
	struct json_object *v;
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return def;
	return json_object_get_int64(v);
}

void fmt_duration(int64_t ms, char *buf, size_t len)
{
	if (ms < 0)
		ms = 0;
	if (ms < 1000)
		snprintf(buf, len, "%lldms", (long long)ms);
	else if (ms < 60000)
		snprintf(buf, len, "%lld.%llds", (long long)(ms / 1000),
		         (long long)(ms % 1000 / 100));
	else if (ms < 3600000)
		snprintf(buf, len, "%lldm%02llds", (long long)(ms / 60000),
		         (long long)(ms % 60000 / 1000));
	else
		snprintf(buf, len, "%lldh%02lldm", (long long)(ms / 3600000),
		         (long long)(ms % 3600000 / 60000));
}

const char *fmt_utc(const char *iso, char *buf, size_t len)
{
	int64_t t;
	char err[128];
	if (!iso || !*iso)
		snprintf(buf, len, "-");
	else if (civil_parse_iso(iso, &t, err, sizeof err) == 0 && len >= 32)
		civil_format_iso(t, 0, buf, len);
	else
		snprintf(buf, len, "%s", iso);
	return buf;
}

void fmt_clock_ms(int64_t ms, char *buf, size_t len)
{
	struct civil c;
	civil_from_secs(civil_floordiv(ms, 1000), &c);
	snprintf(buf, len, "%02d:%02d:%02d.%03d", c.hour, c.minute, c.second,
	         (int)(ms - civil_floordiv(ms, 1000) * 1000));
}

void fmt_status(struct json_object *run, char *buf, size_t len)
{
	const char *status = fmt_str(run, "status");
	const char *sig = fmt_str(run, "signal");
	if (sig && *sig && strcmp(sig, "0"))
		snprintf(buf, len, "%s (%s)", status ? status : "?", sig);
	else
		snprintf(buf, len, "%s", status ? status : "?");
}

static const char *level_name(int level)
{
	static const char *const names[] = {"EMERG", "ALERT",  "CRIT", "ERROR",
	                                    "WARN",  "NOTICE", "INFO", "DEBUG"};
	return level >= 0 && level <= 7 ? names[level] : "INFO";
}

/* A field value, quoted when it has blanks, quotes or is empty. */
static void append_value(struct strbuf *out, const char *v)
{
	if (*v && !strpbrk(v, " \t\n\"=")) {
		strbuf_append(out, v);
		return;
	}
	strbuf_append(out, "\"");
	for (const char *p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			strbuf_append(out, "\\");
		if (*p == '\n')
			strbuf_append(out, "\\n");
		else
			strbuf_appendn(out, p, 1);
	}
	strbuf_append(out, "\"");
}

void fmt_log_line(struct strbuf *out, struct json_object *level, const char *msg,
                  struct json_object *fields)
{
	if (level && json_object_is_type(level, json_type_string)) {
		for (const char *p = json_object_get_string(level); *p; p++) {
			char ch = (char)toupper((unsigned char)*p);
			strbuf_appendn(out, &ch, 1);
		}
	} else {
		strbuf_append(out, level_name(level ? json_object_get_int(level) : 6));
	}
	strbuf_append(out, " ");
	strbuf_append(out, msg ? msg : "");
	if (fields && json_object_is_type(fields, json_type_object)) {
		json_object_object_foreach(fields, k, v)
		{
			strbuf_appendf(out, " %s=", k);
			append_value(out, v ? json_object_get_string(v) : "null");
		}
	}
}

int fmt_run_exit(const char *status)
{
	if (!status)
		return EX_SOFTWARE;
	if (!strcmp(status, "ok"))
		return 0;
	if (!strcmp(status, "partial") || !strcmp(status, "skipped"))
		return EX_TEMPFAIL;
	return EX_SOFTWARE;
}

void table_row(struct table *t, const char *const *cells)
{
	char **grown = realloc(t->cells, (t->rows + 1) * t->cols * sizeof *grown);
	if (!grown)
		abort();
	t->cells = grown;
	for (size_t i = 0; i < t->cols; i++) {
		char *cell = strdup(cells[i] ? cells[i] : "-");
		if (!cell)
			abort();
		/* One line per row: newlines in summaries would break the columns. */
		for (char *p = cell; *p; p++)
			if (*p == '\n' || *p == '\t' || *p == '\r')
				*p = ' ';
		t->cells[t->rows * t->cols + i] = cell;
	}
	t->rows++;
}

void table_print(const struct table *t, FILE *f)
{
	size_t width[16] = {0};
	for (size_t r = 0; r < t->rows; r++)
		for (size_t i = 0; i < t->cols && i < 16; i++) {
			size_t w = strlen(t->cells[r * t->cols + i]);
			if (w > width[i])
				width[i] = w;
		}
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t i = 0; i < t->cols; i++) {
			const char *cell = t->cells[r * t->cols + i];
			if (i + 1 == t->cols)
				fprintf(f, "%s\n", cell);
			else
				fprintf(f, "%-*s  ", (int)width[i < 16 ? i : 15], cell);
		}
	}
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->rows * t->cols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->rows = 0;
}
