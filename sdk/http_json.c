/* JSON and URL helpers of the http service: chored_http_json, chored_json_path,
 * chored_http_escape and chored_http_url_add_query. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_impl.h"

char *chored_http_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	if (!s)
		s = "";
	size_t len = strlen(s);
	char *out = malloc(len * 3 + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return out;
}

int chored_http_url_add_query(char **url, const char *name, const char *value)
{
	char *v = chored_http_escape(value);
	if (!v)
		return -1;
	const char *u = *url ? *url : "";
	const char *hash = strchr(u, '#');
	size_t base = hash ? (size_t)(hash - u) : strlen(u);
	const char *q = memchr(u, '?', base);
	const char *sep = !q ? "?" : q + 1 == u + base || u[base - 1] == '&' ? "" : "&";
	size_t n = strlen(u) + strlen(sep) + strlen(name) + strlen(v) + 2;
	char *out = malloc(n);
	if (!out) {
		free(v);
		return -1;
	}
	snprintf(out, n, "%.*s%s%s=%s%s", (int)base, u, sep, name, v, u + base);
	free(v);
	free(*url);
	*url = out;
	return 0;
}

struct json_object *chored_json_path(struct json_object *obj, const char *path)
{
	if (!path)
		return NULL;
	while (obj && *path) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		char key[256];
		if (len >= sizeof key)
			return NULL;
		memcpy(key, path, len);
		key[len] = '\0';
		if (json_object_is_type(obj, json_type_array)) {
			char *end;
			long i = strtol(key, &end, 10);
			if (!len || *end || i < 0 || (size_t)i >= json_object_array_length(obj))
				return NULL;
			obj = json_object_array_get_idx(obj, (size_t)i);
		} else if (!json_object_object_get_ex(obj, key, &obj)) {
			return NULL;
		}
		path += len + (dot ? 1 : 0);
	}
	return obj;
}

static bool has_header(const char *const *headers, const char *name)
{
	size_t len = strlen(name);
	for (; headers && *headers; headers++)
		if (strncasecmp(*headers, name, len) == 0 && (*headers)[len] == ':')
			return true;
	return false;
}

/* Parses resp->body whole into *out; NULL for an empty (blank) body. */
static int parse_body(struct chored_http_response *resp, const char *method, const char *url,
                      struct json_object **out)
{
	const char *b = resp->body ? resp->body : "";
	size_t len = resp->body_len, i = 0;
	while (i < len && isspace((unsigned char)b[i]))
		i++;
	if (i == len)
		return 0;
	struct json_tokener *tok = json_tokener_new();
	if (!tok) {
		snprintf(resp->error, sizeof resp->error, "out of memory");
		return -1;
	}
	struct json_object *obj = json_tokener_parse_ex(tok, b, (int)len);
	enum json_tokener_error err = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	while (end < len && isspace((unsigned char)b[end]))
		end++;
	if (!obj || err != json_tokener_success || end != len) {
		json_object_put(obj);
		char *safe = http_redact_query(url);
		snprintf(resp->error, sizeof resp->error,
		         "malformed JSON in the answer to %s %s: %s", method, safe ? safe : "",
		         err == json_tokener_continue  ? "the JSON value is cut short"
		         : err == json_tokener_success ? "data after the JSON value"
		                                       : json_tokener_error_desc(err));
		free(safe);
		return -1;
	}
	*out = obj;
	return 0;
}

int chored_http_json(struct chored_job *job, const struct chored_http_request *req,
                     struct json_object *body, struct json_object **out,
                     struct chored_http_response *resp)
{
	*out = NULL;
	size_t n = 0;
	for (const char *const *h = req->headers; h && *h; h++)
		n++;
	const char **headers = calloc(n + 3, sizeof *headers);
	if (!headers) {
		memset(resp, 0, sizeof *resp);
		snprintf(resp->error, sizeof resp->error, "out of memory");
		return -1;
	}
	if (n)
		memcpy(headers, req->headers, n * sizeof *headers);
	if (!has_header(req->headers, "Accept"))
		headers[n++] = "Accept: application/json";
	if (body && !has_header(req->headers, "Content-Type"))
		headers[n++] = "Content-Type: application/json";
	struct chored_http_request r = *req;
	r.headers = headers;
	r.write = NULL;
	if (body) {
		const char *s = json_object_to_json_string_ext(
		    body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		r.body = s;
		r.body_len = strlen(s);
		r.read = NULL;
		r.rewind = NULL;
		if (!r.method)
			r.method = "POST";
	}
	int rc = chored_http_do(job, &r, resp);
	free(headers);
	if (rc != 0)
		return rc;
	return parse_body(resp, r.method ? r.method : r.read ? "POST" : "GET", req->url, out);
}
