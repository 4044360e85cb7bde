/* The DEBUG trace of HTTP exchanges (request line and headers, status line and headers,
 * never bodies) with credentials redacted, and the query redaction shared by error
 * messages. Tracing is on when the environment has CHORED_HTTP_TRACE set to a value other
 * than "" or "0": a trace is verbose, so a run opts in. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_impl.h"

#define REDACTED "***"

static const char *const secret_params[] = {
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "api_key",
    "apikey",
    "key",
    "client_secret",
    "code",
    "password",
    "X-Amz-Signature",
    "X-Amz-Credential",
    "X-Amz-Security-Token",
    "sig",
    "signature",
    NULL,
};

static const char *const secret_headers[] = {
    "Authorization",  "Proxy-Authorization",  "Cookie", "Set-Cookie", "X-Kit-Api-Key", "X-Api-Key",
    "X-Goog-Api-Key", "x-amz-security-token", NULL,
};

static bool in_list(const char *const *list, const char *name, size_t len)
{
	for (; *list; list++)
		if (strlen(*list) == len && strncasecmp(*list, name, len) == 0)
			return true;
	return false;
}

bool http_header_is_secret(const char *name, size_t len)
{
	return in_list(secret_headers, name, len);
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

/* Where a query value ends in free text. */
static bool ends_value(char c)
{
	return !c || strchr("&#; \t\r\n\"'<>)", c) != NULL;
}

char *http_redact_query(const char *s)
{
	if (!s)
		s = "";
	size_t len = strlen(s);
	char *out = malloc(len + 1 + (len / 2 + 1) * (sizeof REDACTED - 1));
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		out[o++] = s[i];
		if (s[i] != '?' && s[i] != '&' && s[i] != '#' && s[i] != ';') {
			i++;
			continue;
		}
		size_t n = i + 1;
		while (is_name_char(s[n]))
			n++;
		if (s[n] != '=' || !in_list(secret_params, s + i + 1, n - i - 1)) {
			i++;
			continue;
		}
		memcpy(out + o, s + i + 1, n - i); /* the name and '=' */
		o += n - i;
		memcpy(out + o, REDACTED, sizeof REDACTED - 1);
		o += sizeof REDACTED - 1;
		for (i = n + 1; !ends_value(s[i]); i++)
			;
	}
	out[o] = '\0';
	return out;
}

/* Logs one line of a header block: ">" outgoing, "<" incoming. */
static void trace_line(struct chored_job *job, char dir, const char *line, size_t len)
{
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (!len)
		return;
	char *copy = strndup(line, len);
	if (!copy)
		return;
	const char *colon = memchr(copy, ':', len);
	if (colon && http_header_is_secret(copy, (size_t)(colon - copy))) {
		chored_log(job, CHORED_LOG_DEBUG, "http %c %.*s: " REDACTED, dir,
		           (int)(colon - copy), copy);
	} else {
		char *safe = http_redact_query(copy);
		if (safe)
			chored_log(job, CHORED_LOG_DEBUG, "http %c %s", dir, safe);
		free(safe);
	}
	free(copy);
}

static int on_debug(CURL *curl, curl_infotype type, char *data, size_t size, void *userp)
{
	(void)curl;
	struct chored_job *job = userp;
	char dir;
	if (type == CURLINFO_HEADER_OUT)
		dir = '>';
	else if (type == CURLINFO_HEADER_IN)
		dir = '<';
	else
		return 0; /* bodies and libcurl's own text (it names the SigV4 key id) stay out */
	for (size_t i = 0; i < size;) {
		const char *nl = memchr(data + i, '\n', size - i);
		size_t end = nl ? (size_t)(nl - data) + 1 : size;
		trace_line(job, dir, data + i, end - i);
		i = end;
	}
	return 0;
}

void http_trace_setup(CURL *curl, struct chored_job *job)
{
	const char *v = getenv("CHORED_HTTP_TRACE");
	if (!v || !*v || strcmp(v, "0") == 0)
		return;
	curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(curl, CURLOPT_DEBUGDATA, job);
	curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
}
