/* chorectl's control socket client (libcurl with CURLOPT_UNIX_SOCKET_PATH). */
#include "chored-build.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl_client.h"
#include "strbuf.h"

#define CONNECT_TIMEOUT_MS 5000L
#define DEFAULT_SOCKET     RUNSTATEDIR "/chored/chored.sock"

struct ctl {
	CURL *curl; /* kept for keep-alive between calls (long polls) */
	char *socket;
	struct strbuf body; /* last answer */
};

char *ctl_socket_path(const char *config)
{
	const char *env = getenv("CHORED_SOCKET");
	if (env && *env)
		return strdup(env);
	struct cfg *cfg = NULL;
	struct cfg_diag diag = {0};
	char *path = NULL;
	if (cfg_load(config, &cfg, &diag) == 0) {
		path = strdup(cfg->daemon.socket);
		cfg_free(cfg);
	} else if (config) {
		fprintf(stderr, "chorectl: warning: cannot read %s (%s); trying %s\n", config,
		        diag.n_errors ? diag.errors[0] : "unknown error", DEFAULT_SOCKET);
	}
	cfg_diag_free(&diag);
	return path ? path : strdup(DEFAULT_SOCKET);
}

struct ctl *ctl_new(const char *socket_path)
{
	static int global_done;
	if (!global_done) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		global_done = 1;
	}
	struct ctl *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->curl = curl_easy_init();
	c->socket = strdup(socket_path);
	if (!c->curl || !c->socket) {
		ctl_free(c);
		return NULL;
	}
	return c;
}

void ctl_free(struct ctl *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->socket);
	strbuf_free(&c->body);
	free(c);
}

const char *ctl_socket(const struct ctl *c)
{
	return c->socket;
}

const char *ctl_body(const struct ctl *c)
{
	return strbuf_str(&c->body);
}

char *ctl_escape(struct ctl *c, const char *s)
{
	char *e = curl_easy_escape(c->curl, s, 0);
	char *copy = e ? strdup(e) : NULL;
	curl_free(e);
	return copy;
}

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	strbuf_appendn(arg, data, size * n);
	return size * n;
}

enum ctl_result ctl_call(struct ctl *c, const char *method, const char *path, const char *body,
                         long timeout_s, long *status, struct json_object **json, char *err,
                         size_t errlen)
{
	*json = NULL;
	*status = 0;
	strbuf_reset(&c->body);
	struct strbuf url = STRBUF_INIT;
	strbuf_appendf(&url, "http://localhost%s", path);
	char curl_err[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
	if (body)
		headers = curl_slist_append(headers, "Content-Type: application/json");
	/* No "Expect: 100-continue" round trip for small bodies. */
	headers = curl_slist_append(headers, "Expect:");

	CURL *h = c->curl;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->socket);
	curl_easy_setopt(h, CURLOPT_URL, strbuf_str(&url));
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else if (!strcmp(method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "chorectl/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->body);
	CURLcode rc = curl_easy_perform(h);
	curl_slist_free_all(headers);
	strbuf_free(&url);

	if (rc != CURLE_OK) {
		long os_errno = 0;
		curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
		if (rc == CURLE_COULDNT_CONNECT && os_errno)
			snprintf(err, errlen, "cannot reach chored at %s: %s", c->socket,
			         strerror((int)os_errno));
		else if (rc == CURLE_OPERATION_TIMEDOUT)
			snprintf(err, errlen, "chored at %s did not answer within %ld s", c->socket,
			         timeout_s);
		else
			snprintf(err, errlen, "cannot reach chored at %s: %s", c->socket,
			         curl_err[0] ? curl_err : curl_easy_strerror(rc));
		return CTL_UNREACHABLE;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	struct json_tokener *tok = json_tokener_new();
	*json = json_tokener_parse_ex(tok, strbuf_str(&c->body), (int)c->body.len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (!*json || jerr != json_tokener_success) {
		json_object_put(*json);
		*json = NULL;
		snprintf(err, errlen, "chored at %s gave a non-JSON answer (HTTP %ld)", c->socket,
		         *status);
		return CTL_BAD_ANSWER;
	}
	return CTL_OK;
}
