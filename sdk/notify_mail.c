/* What the mail sinks (outbox, smtp) share: the host name, random names and the message
 * built from a report's text and HTML renderings. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <json-c/json.h>

#include "notify_impl.h"

const char *notify_key(const struct notify_sink *sink, const char *key)
{
	struct json_object *v;
	if (!sink->keys || !json_object_object_get_ex(sink->keys, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

void notify_hostname(char *buf, size_t len)
{
	if (gethostname(buf, len) < 0 || !*buf)
		snprintf(buf, len, "localhost");
	buf[len - 1] = '\0';
}

void notify_random_hex(char *buf, size_t n)
{
	unsigned char raw[32];
	if (n > sizeof raw)
		n = sizeof raw;
	size_t got = 0;
	while (got < n) {
		ssize_t k = getrandom(raw + got, n - got, 0);
		if (k <= 0)
			abort(); /* getrandom never fails on Linux >= 3.17 once the pool is ready */
		got += (size_t)k;
	}
	for (size_t i = 0; i < n; i++)
		snprintf(buf + 2 * i, 3, "%02x", raw[i]);
}

char *notify_build_mail(struct chored_job *job, const struct chored_report *r, const char *subject,
                        const char *from, const char *to, const char *eol, char *err, size_t errlen)
{
	char host[256], from_buf[300], to_buf[300], mid[400], rnd[33], boundary[64];
	notify_hostname(host, sizeof host);
	if (!from) {
		snprintf(from_buf, sizeof from_buf, "chored@%s", host);
		from = from_buf;
	}
	if (!to) {
		/* The outbox is read on this machine: addressed to the user running chored. */
		struct passwd *pw = getpwuid(geteuid());
		snprintf(to_buf, sizeof to_buf, "%s@%s", pw && pw->pw_name ? pw->pw_name : "root",
		         host);
		to = to_buf;
	}
	notify_random_hex(rnd, 16);
	const char *run = chored_job_run_id(job);
	snprintf(mid, sizeof mid, "<chored.%s.%s@%s>", *run ? run : "0", rnd, host);
	notify_random_hex(rnd, 12);
	snprintf(boundary, sizeof boundary, "=_chored_%s", rnd);
	char *text = chored_report_text(r), *html = chored_report_html(r);
	if (!text || !html) {
		free(text);
		free(html);
		snprintf(err, errlen, "the report could not be rendered");
		return NULL;
	}
	struct notify_mail m = {
	    .from = from,
	    .to = to,
	    .subject = subject,
	    .date = chored_job_now(job),
	    .message_id = mid,
	    .boundary = boundary,
	    .text = text,
	    .html = html,
	};
	char *msg = notify_mime_message(&m, eol);
	free(text);
	free(html);
	return msg;
}
