/* Applying a plan to Cal.com schedules (calcom_sched.h). */
#include "calcom_sched.h"

#include <stdlib.h>
#include <string.h>

#include <chored/http.h>
#include <chored/time.h>

static const char *const version_header[] = {"cal-api-version: 2024-06-11", NULL};

/* The brand's overrides: [{"date","startTime","endTime"}] in plan order. */
static struct json_object *overrides_of(const struct rz_opts *o, size_t b, const struct plan *pl)
{
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; i < pl->n; i++) {
		const struct plan_slot *s = &pl->slots[i];
		if (s->brand != b)
			continue;
		int y, m, d, e = s->start + o->params.slot_length;
		chored_civil_from_days(s->day, &y, &m, &d);
		char date[32], a[16], z[16];
		snprintf(date, sizeof date, "%04d-%02d-%02d", y, m, d);
		snprintf(a, sizeof a, "%02d:%02d", s->start / 60, s->start % 60);
		snprintf(z, sizeof z, "%02d:%02d", e / 60, e % 60);
		struct json_object *x = json_object_new_object();
		json_object_object_add(x, "date", json_object_new_string(date));
		json_object_object_add(x, "startTime", json_object_new_string(a));
		json_object_object_add(x, "endTime", json_object_new_string(z));
		json_object_array_add(arr, x);
	}
	return arr;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "date start-end" of each override, sorted; NULL when `arr` is not a list of overrides. */
static char **override_keys(struct json_object *arr, size_t *n)
{
	if (!arr || !json_object_is_type(arr, json_type_array))
		return NULL;
	*n = json_object_array_length(arr);
	char **k = calloc(*n ? *n : 1, sizeof *k);
	for (size_t i = 0; k && i < *n; i++) {
		struct json_object *x = json_object_array_get_idx(arr, i), *d, *a, *z;
		if (!json_object_object_get_ex(x, "date", &d) ||
		    !json_object_object_get_ex(x, "startTime", &a) ||
		    !json_object_object_get_ex(x, "endTime", &z) ||
		    asprintf(&k[i], "%s %s-%s", json_object_get_string(d),
		             json_object_get_string(a), json_object_get_string(z)) < 0) {
			for (size_t j = 0; j < i; j++)
				free(k[j]);
			free(k);
			return NULL;
		}
	}
	if (k)
		qsort(k, *n, sizeof *k, cmp_str);
	return k;
}

static void free_keys(char **k, size_t n)
{
	for (size_t i = 0; k && i < n; i++)
		free(k[i]);
	free(k);
}

/* Compares what was sent with what the schedule holds now. */
static int verify(const struct rz_opts *o, struct json_object *sent, struct json_object *got,
                  char *err, size_t errlen)
{
	struct json_object *data, *tz, *ov;
	if (!json_object_object_get_ex(got, "data", &data) ||
	    !json_object_object_get_ex(data, "overrides", &ov)) {
		snprintf(err, errlen, "read back: the answer has no data.overrides");
		return -1;
	}
	if (!json_object_object_get_ex(data, "timeZone", &tz) ||
	    strcmp(json_object_get_string(tz), o->zone) != 0) {
		snprintf(err, errlen, "read back: timeZone is %s, expected %s",
		         tz ? json_object_get_string(tz) : "missing", o->zone);
		return -1;
	}
	size_t ns = 0, ng = 0;
	char **ks = override_keys(sent, &ns), **kg = override_keys(ov, &ng);
	int rc = 0;
	if (!ks || !kg) {
		snprintf(err, errlen,
		         "read back: overrides are not a list of date/startTime/endTime");
		rc = -1;
	} else {
		for (size_t i = 0; rc == 0 && i < ns && i < ng; i++)
			if (strcmp(ks[i], kg[i]) != 0) {
				snprintf(err, errlen, "read back: expected override %s, found %s",
				         ks[i], kg[i]);
				rc = -1;
			}
		if (rc == 0 && ns != ng) {
			snprintf(err, errlen, "read back: %zu overrides sent, %zu found", ns, ng);
			rc = -1;
		}
	}
	free_keys(ks, ns);
	free_keys(kg, ng);
	return rc;
}

/* "HTTP 400: message" from a Cal.com error answer, or the transport error. */
static void api_error(const struct chored_http_response *resp, const char *what, char *err,
                      size_t errlen)
{
	struct json_object *j = resp->body ? json_tokener_parse(resp->body) : NULL;
	struct json_object *m = chored_json_path(j, "error.message");
	if (m)
		snprintf(err, errlen, "%s: HTTP %ld: %s", what, resp->status,
		         json_object_get_string(m));
	else
		snprintf(err, errlen, "%s: %s", what, resp->error);
	json_object_put(j);
}

int rz_apply_brand(struct chored_job *job, const struct rz_opts *o, size_t b, const struct plan *pl,
                   char *err, size_t errlen)
{
	char *url = NULL;
	if (asprintf(&url, "%s/v2/schedules/%ld", o->base_url, o->schedule_ids[b]) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct json_object *body = json_object_new_object(), *sent = overrides_of(o, b, pl);
	json_object_object_add(body, "timeZone", json_object_new_string(o->zone));
	json_object_object_add(body, "availability", json_object_new_array());
	json_object_object_add(body, "overrides", json_object_get(sent));
	struct chored_http_request req = {
	    .method = "PATCH", .url = url, .headers = version_header, .bearer = o->api_key};
	struct chored_http_response resp;
	struct json_object *out = NULL;
	int rc = chored_http_json(job, &req, body, &out, &resp);
	char what[160];
	snprintf(what, sizeof what, "PATCH schedule %ld (%s)", o->schedule_ids[b], o->brands[b]);
	if (rc < 0)
		api_error(&resp, what, err, errlen);
	chored_http_response_free(&resp);
	json_object_put(out);
	json_object_put(body);
	if (rc == 0) {
		out = NULL;
		req.method = "GET";
		rc = chored_http_json(job, &req, NULL, &out, &resp);
		snprintf(what, sizeof what, "GET schedule %ld (%s)", o->schedule_ids[b],
		         o->brands[b]);
		if (rc < 0)
			api_error(&resp, what, err, errlen);
		else
			rc = verify(o, sent, out, err, errlen);
		chored_http_response_free(&resp);
		json_object_put(out);
	}
	json_object_put(sent);
	free(url);
	return rc;
}
