/* Booking pages and their slots (pages.h). */
#include "pages.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <chored/http.h>
#include <chored/time.h>

static const char *const slots_version[] = {"cal-api-version: 2024-09-04", NULL};

int sw_pages_parse(const char *text, struct sw_page *out, size_t max, char *err, size_t errlen)
{
	size_t n = 0;
	const char *s = text ? text : "";
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		const char *w = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		int len = (int)(s - w);
		if (n == max) {
			snprintf(err, errlen, "more than %zu pages", max);
			return -1;
		}
		struct sw_page *p = &out[n];
		memset(p, 0, sizeof *p);
		const char *eq = memchr(w, '=', (size_t)len);
		if (!eq || eq == w || eq == s - 1 || (size_t)(eq - w) >= sizeof p->brand) {
			snprintf(err, errlen,
			         "'%.*s' is not BRAND=SLUG@USERNAME or BRAND=EVENT_TYPE_ID", len,
			         w);
			return -1;
		}
		memcpy(p->brand, w, (size_t)(eq - w));
		const char *v = eq + 1, *at = memchr(v, '@', (size_t)(s - v));
		if (at) {
			if (at == v || at == s - 1 || (size_t)(at - v) >= sizeof p->slug ||
			    (size_t)(s - at - 1) >= sizeof p->username) {
				snprintf(err, errlen, "'%.*s': expected SLUG@USERNAME after '='",
				         len, w);
				return -1;
			}
			memcpy(p->slug, v, (size_t)(at - v));
			memcpy(p->username, at + 1, (size_t)(s - at - 1));
		} else {
			char *end;
			errno = 0;
			p->event_type_id = strtol(v, &end, 10);
			if (errno || end != s || p->event_type_id <= 0) {
				snprintf(err, errlen,
				         "'%.*s': expected SLUG@USERNAME or an event type id", len,
				         w);
				return -1;
			}
		}
		for (size_t i = 0; i < n; i++)
			if (strcmp(out[i].brand, p->brand) == 0) {
				snprintf(err, errlen, "brand '%s' has two pages", p->brand);
				return -1;
			}
		n++;
	}
	if (!n) {
		snprintf(err, errlen, "no page: expected items such as brand=intro@acme");
		return -1;
	}
	return (int)n;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

int sw_fetch_slots(struct chored_job *job, const char *base_url, const char *api_key,
                   const char *zone, const struct sw_page *pg, int64_t from_day, int64_t to_day,
                   struct sw_slots *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	char *url = NULL, from[16], to[16], id[24];
	int y, m, d;
	chored_civil_from_days(from_day, &y, &m, &d);
	snprintf(from, sizeof from, "%04d-%02d-%02d", y % 10000, m, d);
	chored_civil_from_days(to_day, &y, &m, &d);
	snprintf(to, sizeof to, "%04d-%02d-%02d", y % 10000, m, d);
	if (asprintf(&url, "%s/v2/slots", base_url) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int q = 0;
	if (pg->event_type_id) {
		snprintf(id, sizeof id, "%ld", pg->event_type_id);
		q |= chored_http_url_add_query(&url, "eventTypeId", id);
	} else {
		q |= chored_http_url_add_query(&url, "eventTypeSlug", pg->slug);
		q |= chored_http_url_add_query(&url, "username", pg->username);
	}
	q |= chored_http_url_add_query(&url, "start", from);
	q |= chored_http_url_add_query(&url, "end", to);
	q |= chored_http_url_add_query(&url, "timeZone", zone);
	if (q) {
		free(url);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct chored_http_request req = {.url = url, .headers = slots_version, .bearer = api_key};
	struct chored_http_response resp;
	struct json_object *body = NULL;
	int rc = chored_http_json(job, &req, NULL, &body, &resp);
	if (rc < 0) {
		struct json_object *j = resp.body ? json_tokener_parse(resp.body) : NULL;
		struct json_object *msg = chored_json_path(j, "error.message");
		if (msg)
			snprintf(err, errlen, "HTTP %ld: %s", resp.status,
			         json_object_get_string(msg));
		else
			snprintf(err, errlen, "%s", resp.error);
		json_object_put(j);
	}
	chored_http_response_free(&resp);
	free(url);
	if (rc < 0)
		return -1;
	struct json_object *data = chored_json_path(body, "data"),
	                   *st = chored_json_path(body, "status");
	if (!data || !json_object_is_type(data, json_type_object) || !st ||
	    strcmp(json_object_get_string(st), "success") != 0) {
		snprintf(err, errlen, "the answer has no status \"success\" and data object");
		json_object_put(body);
		return -1;
	}
	size_t cap = 0;
	json_object_object_foreach(data, date, list)
	{
		(void)date;
		if (!json_object_is_type(list, json_type_array)) {
			snprintf(err, errlen, "data.%s is not a list of slots", date);
			rc = -1;
			break;
		}
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			struct json_object *start =
			    chored_json_path(json_object_array_get_idx(list, i), "start");
			int64_t t;
			if (!start ||
			    chored_time_parse_iso(json_object_get_string(start), &t) < 0) {
				snprintf(err, errlen, "data.%s[%zu].start is not an ISO 8601 time",
				         date, i);
				rc = -1;
				break;
			}
			if (out->n == cap) {
				cap = cap ? 2 * cap : 64;
				int64_t *v = realloc(out->starts, cap * sizeof *v);
				if (!v) {
					snprintf(err, errlen, "out of memory");
					rc = -1;
					break;
				}
				out->starts = v;
			}
			out->starts[out->n++] = t;
		}
		if (rc < 0)
			break;
	}
	json_object_put(body);
	if (rc < 0) {
		sw_slots_free(out);
		return -1;
	}
	if (out->n)
		qsort(out->starts, out->n, sizeof *out->starts, cmp_i64);
	return 0;
}

void sw_slots_free(struct sw_slots *s)
{
	free(s->starts);
	s->starts = NULL;
	s->n = 0;
}

bool sw_slots_has(const struct sw_slots *s, int64_t start)
{
	return s->n && bsearch(&start, s->starts, s->n, sizeof *s->starts, cmp_i64);
}
