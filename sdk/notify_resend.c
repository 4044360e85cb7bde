/* The resend sink: POST {base_url}/emails (api-contracts §4) with the report's text and HTML.
 * Its Idempotency-Key is derived from the job, the run's nominal time and the sink, so a
 * retried request, a retried run or a restarted daemon never sends the same slot's mail
 * twice; 429 and 5xx answers are retried by the http service. Keys: api_key, from, to
 * (addresses separated by blanks or commas), base_url (default https://api.resend.com). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "chored/http.h"
#include "notify_impl.h"

#define RESEND_BASE_URL "https://api.resend.com"

/* "HTTP 422 …" plus Resend's error name and message when the body carries them. */
static void resend_error(const struct chored_http_response *resp, char *err, size_t errlen)
{
	struct json_object *doc = resp->body ? json_tokener_parse(resp->body) : NULL, *name, *msg;
	if (doc && json_object_object_get_ex(doc, "name", &name) &&
	    json_object_object_get_ex(doc, "message", &msg))
		snprintf(err, errlen, "Resend answered %ld %s: %s%s", resp->status,
		         json_object_get_string(name), json_object_get_string(msg),
		         strcmp(json_object_get_string(name), "invalid_idempotent_request") == 0
		             ? " (this slot's mail was already sent with a different body)"
		             : "");
	else
		snprintf(err, errlen, "%s", resp->error[0] ? resp->error : "request failed");
	json_object_put(doc);
}

int notify_resend_send(struct chored_job *job, const struct notify_sink *sink,
                       const struct chored_report *r, const char *subject, char *err, size_t errlen)
{
	const char *key = notify_key(sink, "api_key"), *from = notify_key(sink, "from"),
	           *to = notify_key(sink, "to"), *base = notify_key(sink, "base_url");
	if (!key || !from || !to) {
		snprintf(err, errlen, "api_key, from and to are required");
		return -1;
	}
	if (!base || !*base)
		base = RESEND_BASE_URL;
	size_t nrcpt;
	char **rcpt = notify_split_addrs(to, &nrcpt);
	if (!nrcpt || nrcpt > 50) {
		notify_strv_free(rcpt);
		snprintf(err, errlen, "to must list 1 to 50 addresses");
		return -1;
	}
	char *text = chored_report_text(r), *html = chored_report_html(r);
	if (!text || !html) {
		free(text);
		free(html);
		notify_strv_free(rcpt);
		snprintf(err, errlen, "the report could not be rendered");
		return -1;
	}
	struct json_object *body = json_object_new_object(), *arr = json_object_new_array();
	json_object_object_add(body, "from", json_object_new_string(from));
	for (size_t i = 0; i < nrcpt; i++)
		json_object_array_add(arr, json_object_new_string(rcpt[i]));
	json_object_object_add(body, "to", arr);
	json_object_object_add(body, "subject", json_object_new_string(subject));
	json_object_object_add(body, "html", json_object_new_string(html));
	json_object_object_add(body, "text", json_object_new_string(text));
	free(text);
	free(html);
	notify_strv_free(rcpt);

	char *ikey =
	    notify_idempotency_key(chored_job_name(job), chored_job_nominal_time(job), sink->name);
	char *ihdr = NULL, *url = NULL;
	size_t blen = strlen(base);
	while (blen && base[blen - 1] == '/')
		blen--;
	if (asprintf(&ihdr, "Idempotency-Key: %s", ikey) < 0 ||
	    asprintf(&url, "%.*s/emails", (int)blen, base) < 0)
		abort();
	const char *headers[] = {ihdr, NULL};
	struct chored_http_request req = {
	    .method = "POST",
	    .url = url,
	    .headers = headers,
	    .bearer = key,
	    .timeout_ms = 30000,
	};
	struct chored_http_response resp;
	struct json_object *out = NULL;
	int rc = chored_http_json(job, &req, body, &out, &resp);
	if (rc < 0)
		resend_error(&resp, err, errlen);
	json_object_put(out);
	chored_http_response_free(&resp);
	json_object_put(body);
	free(ihdr);
	free(ikey);
	free(url);
	return rc < 0 ? -1 : 0;
}
