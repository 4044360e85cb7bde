/* The webhook sink: one JSON POST per report to `url`, Slack-compatible ("text" is the
 * subject) with the run's facts and the report in Markdown; `token`, when set, is sent as
 * a Bearer token. A webhook has no idempotency key, so a request whose body was sent is
 * never repeated (a refused connection still is). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "chored/http.h"
#include "notify_impl.h"

int notify_webhook_send(struct chored_job *job, const struct notify_sink *sink,
                        const struct chored_report *r, const char *subject, char *err,
                        size_t errlen)
{
	const char *url = notify_key(sink, "url"), *token = notify_key(sink, "token");
	if (!url) {
		snprintf(err, errlen, "url is required");
		return -1;
	}
	char *md = chored_report_markdown(r);
	if (!md) {
		snprintf(err, errlen, "the report could not be rendered");
		return -1;
	}
	time_t nominal = (time_t)chored_job_nominal_time(job);
	struct tm tm;
	char when[32] = "";
	if (gmtime_r(&nominal, &tm))
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	struct json_object *body = json_object_new_object();
	json_object_object_add(body, "text", json_object_new_string(subject));
	json_object_object_add(body, "job", json_object_new_string(chored_job_name(job)));
	json_object_object_add(body, "status",
	                       json_object_new_string(notify_status_name(chored_report_status(r))));
	json_object_object_add(body, "summary", json_object_new_string(chored__job_summary(job)));
	json_object_object_add(body, "run_id", json_object_new_string(chored_job_run_id(job)));
	json_object_object_add(body, "nominal", json_object_new_string(when));
	json_object_object_add(body, "report_markdown", json_object_new_string(md));
	free(md);
	struct chored_http_request req = {
	    .method = "POST",
	    .url = url,
	    .bearer = token && *token ? token : NULL,
	    .timeout_ms = 30000,
	    .no_retry_after_send = true,
	};
	struct chored_http_response resp;
	struct json_object *out = NULL;
	int rc = chored_http_json(job, &req, body, &out, &resp);
	if (rc < 0) {
		/* Slack answers "ok" as text/plain: only a non-2xx answer is a failure. */
		if (resp.status >= 200 && resp.status < 300)
			rc = 0;
		else
			snprintf(err, errlen, "%s", resp.error[0] ? resp.error : "request failed");
	}
	json_object_put(out);
	chored_http_response_free(&resp);
	json_object_put(body);
	return rc < 0 ? -1 : 0;
}
