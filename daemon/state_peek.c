/* Read-only peek at a job's key/value state (state_peek.h). */
#include "state_peek.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>
#include <sqlite3.h>

int state_peek_kv(const char *url, const char *job, struct json_object **out, char *err,
                  size_t errlen)
{
	*out = NULL;
	const char *path = url;
	if (strncmp(url, "sqlite://", 9) == 0)
		path = url + 9;
	else if (strstr(url, "://")) {
		snprintf(err, errlen, "state %s: only SQLite stores can be read here", url);
		return -1;
	}
	struct stat sb;
	if (stat(path, &sb) != 0) {
		if (errno == ENOENT) { /* no run has stored anything yet */
			*out = json_object_new_object();
			return 0;
		}
		snprintf(err, errlen, "state %s: %s", path, strerror(errno));
		return -1;
	}
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		sqlite3_busy_timeout(db, 5000);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "SELECT key, value FROM kv WHERE job = ?1 ORDER BY key",
		                        -1, &q, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(q, 1, job, -1, SQLITE_STATIC);
	struct json_object *kv = json_object_new_object();
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW)
			json_object_object_add(
			    kv, (const char *)sqlite3_column_text(q, 0),
			    json_object_new_string((const char *)sqlite3_column_text(q, 1)));
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "state %s: %s", path,
		         db ? sqlite3_errmsg(db) : "out of memory");
		json_object_put(kv);
		kv = NULL;
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	*out = kv;
	return kv ? 0 : -1;
}
