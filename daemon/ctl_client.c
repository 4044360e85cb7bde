/* chorectl's control socket client (libcurl with CURLOPT_UNIX_SOCKET_PATH). */
#include "chored-build.h"

#include <curl/curl.h>
#include <dirent.h>
#include <json-c/json.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_ini.h"
#include "ctl_client.h"
#include "strbuf.h"

#define CONNECT_TIMEOUT_MS 5000L
#define DEFAULT_SOCKET     RUNSTATEDIR "/chored/chored.sock"

struct ctl {
	CURL *curl; /* kept for keep-alive between calls (long polls) */
	char *socket;
	struct strbuf body; /* last answer */
};

static void ignore_error(void *ctx, unsigned line, const char *type, const char *name,
                         const char *key, const char *msg)
{
	(void)ctx, (void)line, (void)type, (void)name, (void)key, (void)msg;
}

/* Updates *socket from the last `socket` of a [daemon] section in one file. */
static void scan_file(const char *path, char **socket)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	struct strbuf data = STRBUF_INIT;
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		strbuf_appendn(&data, buf, n);
	fclose(f);
	struct ini_doc doc = {0};
	ini_parse(strbuf_str(&data), data.len, &doc, ignore_error, NULL);
	for (size_t i = 0; i < doc.n_sections; i++) {
		const struct ini_section *sec = &doc.sections[i];
		if (strcmp(sec->type, "daemon"))
			continue;
		for (size_t k = 0; k < sec->n_entries; k++)
			if (!strcmp(sec->entries[k].key, "socket") && sec->entries[k].value[0]) {
				free(*socket);
				*socket = strdup(sec->entries[k].value);
			}
	}
	ini_doc_free(&doc);
	strbuf_free(&data);
}

static int by_bytes(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_conf(const struct dirent *e)
{
	size_t len = strlen(e->d_name);
	return e->d_name[0] != '.' && len > 5 && !strcmp(e->d_name + len - 5, ".conf");
}

/* The socket of a configuration that does not load (the case `reload --wait` is for):
 * the main file then conf.d/ read as plain INI, later files overriding earlier ones. */
static char *socket_from_files(const char *main_path)
{
	char *socket = NULL;
	scan_file(main_path, &socket);
	char *copy = strdup(main_path);
	if (!copy)
		return socket;
	struct strbuf dir = STRBUF_INIT;
	strbuf_appendf(&dir, "%s/conf.d", dirname(copy));
	free(copy);
	struct dirent **names;
	int n = scandir(strbuf_str(&dir), &names, is_conf, by_bytes);
	for (int i = 0; i < n; i++) {
		struct strbuf path = STRBUF_INIT;
		strbuf_appendf(&path, "%s/%s", strbuf_str(&dir), names[i]->d_name);
		scan_file(strbuf_str(&path), &socket);
		strbuf_free(&path);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	strbuf_free(&dir);
	return socket;
}

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
	} else {
		/* A configuration with errors still names its socket. */
		path = socket_from_files(config ? config : cfg_default_path());
		if (!path && config)
			fprintf(stderr, "chorectl: warning: cannot read %s (%s); trying %s\n",
			        config, diag.n_errors ? diag.errors[0] : "unknown error",
			        DEFAULT_SOCKET);
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
