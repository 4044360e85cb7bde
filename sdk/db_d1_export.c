/* Dump of a D1 database through its export API (api-contracts §7.2): the export is
 * started, then polled with the bookmark it returns, without pause beyond the poll
 * interval (D1 cancels an export that is not polled continually), until it is complete;
 * the SQL file is then downloaded from its signed URL (plain GET, no token: the URL
 * carries its own signature) and streamed to the dump sink. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include <chored/http.h>

#include "db_impl.h"

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct json_object *export_body(const char *bookmark)
{
	struct json_object *b = json_object_new_object(), *o = json_object_new_object();
	json_object_object_add(b, "output_format", json_object_new_string("polling"));
	json_object_object_add(o, "no_data", json_object_new_boolean(0));
	json_object_object_add(o, "no_schema", json_object_new_boolean(0));
	json_object_object_add(o, "tables", json_object_new_array());
	json_object_object_add(b, "dump_options", o);
	if (bookmark)
		json_object_object_add(b, "current_bookmark", json_object_new_string(bookmark));
	return b;
}

/* Polls until complete; *signed_url (malloc'd) gets the download address. */
static int poll_export(struct chored_db *db, char **signed_url)
{
	char *bookmark = NULL;
	int64_t deadline = mono_ms() + db->export_timeout_ms;
	int rc = -1;
	for (unsigned polls = 0;; polls++) {
		struct json_object *body = export_body(bookmark), *res;
		int prc = d1_post(db, "export", body, false, &res);
		json_object_put(body);
		if (prc < 0)
			break;
		const char *status = json_object_get_string(chored_json_path(res, "status"));
		if (status && strcmp(status, "complete") == 0) {
			const char *u =
			    json_object_get_string(chored_json_path(res, "result.signed_url"));
			if (!u || (strncmp(u, "https://", 8) && strncmp(u, "http://", 7)))
				db_fail(db, "d1: export: malformed answer: complete without a "
				            "signed_url");
			else if (!(*signed_url = strdup(u)))
				db_fail(db, "d1: out of memory");
			else
				rc = 0;
			chored_log(db->job, CHORED_LOG_DEBUG,
			           "d1 export complete after %u requests", polls + 1);
			json_object_put(res);
			break;
		}
		if (status && strcmp(status, "error") == 0) {
			const char *e = json_object_get_string(chored_json_path(res, "error"));
			db_fail(db, "d1: export failed: %s", e ? e : "no reason given");
			json_object_put(res);
			break;
		}
		const char *bm = json_object_get_string(chored_json_path(res, "at_bookmark"));
		if (!status || strcmp(status, "active") != 0 || !bm || !*bm) {
			db_fail(db, "d1: export: malformed answer: status %s%s%s",
			        status ? "\"" : "", status ? status : "missing",
			        status ? "\"" : (bm ? "" : ", no at_bookmark"));
			json_object_put(res);
			break;
		}
		free(bookmark);
		bookmark = strdup(bm);
		json_object_put(res);
		if (!bookmark) {
			db_fail(db, "d1: out of memory");
			break;
		}
		if (mono_ms() >= deadline) {
			db_fail(db, "d1: export not complete after %ld ms", db->export_timeout_ms);
			break;
		}
		if (db_sleep_ms(db->job, db->poll_interval_ms) < 0) {
			db_fail(db, "d1: export cancelled");
			break;
		}
	}
	free(bookmark);
	return rc;
}

static size_t to_out(const void *buf, size_t len, void *data)
{
	return db_putn(data, buf, len) == 0 ? len : 0;
}

int d1_dump(struct chored_db *db, struct db_out *out)
{
	char *url = NULL;
	if (poll_export(db, &url) < 0)
		return -1;
	struct chored_http_request req = {
	    .method = "GET",
	    .url = url,
	    .write = to_out,
	    .write_data = out,
	    .timeout_ms = db->export_timeout_ms,
	};
	struct chored_http_response resp;
	int rc = chored_http_do(db->job, &req, &resp);
	free(url);
	if (rc < 0) {
		if (out->failed) {
			db_fail(db, "d1: dump: the writer refused the data");
		} else {
			/* The signed URL's query is its credential: never shown. */
			char m[300];
			snprintf(m, sizeof m, "%s", resp.error);
			char *q = strchr(m, '?');
			if (q)
				*q = '\0';
			db_fail(db, "d1: export download failed: %s", m);
		}
	}
	chored_http_response_free(&resp);
	return rc;
}
