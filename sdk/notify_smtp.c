/* The smtp sink: the report as a MIME message over libcurl SMTP. smtp:// upgrades with
 * STARTTLS, required whenever credentials are set (they never cross the wire in clear);
 * smtps:// is TLS from the start. Keys: url, from, to (addresses separated by blanks or
 * commas), username, password. The CA bundle is the system's, or $CURL_CA_BUNDLE as with
 * curl(1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "notify_impl.h"

#define SMTP_CONNECT_TIMEOUT_MS 10000L
#define SMTP_TIMEOUT_MS         60000L

struct reader {
	const char *data;
	size_t len, off;
};

static size_t read_msg(char *buf, size_t size, size_t nitems, void *data)
{
	struct reader *rd = data;
	size_t n = size * nitems;
	if (n > rd->len - rd->off)
		n = rd->len - rd->off;
	memcpy(buf, rd->data + rd->off, n);
	rd->off += n;
	return n;
}

static int progress(void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                    curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return chored_job_cancelled(data) ? 1 : 0;
}

/* The address of "Name <addr>" or "addr", as "<addr>" for MAIL FROM / RCPT TO. */
static char *envelope(const char *addr)
{
	const char *lt = strrchr(addr, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	char *out = NULL;
	int n = lt && gt ? asprintf(&out, "<%.*s>", (int)(gt - lt - 1), lt + 1)
	                 : asprintf(&out, "<%s>", addr);
	if (n < 0)
		abort();
	return out;
}

/* `url` without any user:password@ part, for messages. */
static void url_for_log(const char *url, char *out, size_t len)
{
	const char *host = strstr(url, "://");
	host = host ? host + 3 : url;
	const char *at = strchr(host, '@'), *slash = strchr(host, '/');
	if (at && (!slash || at < slash))
		snprintf(out, len, "%.*s%s", (int)(host - url), url, at + 1);
	else
		snprintf(out, len, "%s", url);
}

int notify_smtp_send(struct chored_job *job, const struct notify_sink *sink,
                     const struct chored_report *r, const char *subject, char *err, size_t errlen)
{
	const char *url = notify_key(sink, "url"), *from = notify_key(sink, "from"),
	           *to = notify_key(sink, "to"), *user = notify_key(sink, "username"),
	           *pass = notify_key(sink, "password");
	if (!url || !from || !to) {
		snprintf(err, errlen, "url, from and to are required");
		return -1;
	}
	size_t nrcpt;
	char **rcpt = notify_split_addrs(to, &nrcpt);
	if (!nrcpt) {
		notify_strv_free(rcpt);
		snprintf(err, errlen, "to lists no address");
		return -1;
	}
	/* The To: header lists every recipient, comma-separated as RFC 5322 wants. */
	size_t tolen = 1;
	for (size_t i = 0; i < nrcpt; i++)
		tolen += strlen(rcpt[i]) + 2;
	char *to_hdr = calloc(1, tolen);
	if (!to_hdr)
		abort();
	for (size_t i = 0; i < nrcpt; i++) {
		if (i)
			strcat(to_hdr, ", ");
		strcat(to_hdr, rcpt[i]);
	}
	char *msg = notify_build_mail(job, r, subject, from, to_hdr, "\r\n", err, errlen);
	free(to_hdr);
	if (!msg) {
		notify_strv_free(rcpt);
		return -1;
	}

	int rc = -1;
	char shown[512], curl_err[CURL_ERROR_SIZE] = "";
	url_for_log(url, shown, sizeof shown);
	CURL *c = curl_easy_init();
	struct curl_slist *rcpts = NULL;
	char *mail_from = envelope(from);
	for (size_t i = 0; i < nrcpt; i++) {
		char *e = envelope(rcpt[i]);
		struct curl_slist *l = curl_slist_append(rcpts, e);
		free(e);
		if (!l)
			abort();
		rcpts = l;
	}
	if (!c) {
		snprintf(err, errlen, "%s: cannot start libcurl", shown);
		goto out;
	}
	struct reader rd = {msg, strlen(msg), 0};
	bool starttls = strncmp(url, "smtp://", 7) == 0;
	bool creds = user && *user;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, SMTP_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, SMTP_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	if (starttls && creds)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	const char *ca = getenv("CURL_CA_BUNDLE");
	if (ca && *ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	if (creds) {
		curl_easy_setopt(c, CURLOPT_USERNAME, user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, pass ? pass : "");
	}
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_msg);
	curl_easy_setopt(c, CURLOPT_READDATA, &rd);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rd.len);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, job);
	CURLcode res = curl_easy_perform(c);
	if (res == CURLE_OK) {
		rc = 0;
	} else {
		long code = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		char codebuf[32] = "";
		if (code)
			snprintf(codebuf, sizeof codebuf, " (server said %ld)", code);
		snprintf(err, errlen, "%s: %s%s", shown,
		         res == CURLE_ABORTED_BY_CALLBACK ? "cancelled"
		         : *curl_err                      ? curl_err
		                                          : curl_easy_strerror(res),
		         codebuf);
	}
out:
	if (c)
		curl_easy_cleanup(c);
	curl_slist_free_all(rcpts);
	free(mail_from);
	notify_strv_free(rcpt);
	free(msg);
	return rc;
}
