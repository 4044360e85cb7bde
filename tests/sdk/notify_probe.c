/* Test driver of the notify service: builds a job as chored-run does from an input document
 * (runproto.h: job, run_id, nominal, dry_run, redact, notify, previous_status, state_dir),
 * prints every record as a JSON line on stderr, and
 *   notify_probe INPUT.json notify STATUS [SUMMARY]   sends a sample report with chored_notify
 *   notify_probe INPUT.json twice STATUS [SUMMARY]    the same report twice (idempotency)
 *   notify_probe INPUT.json after STATUS [SUMMARY]    logs a warning and an error, then lets
 *                                                     chored__notify_after_run send the default
 * STATUS is ok, partial or failed. Prints "failed N" (failed sinks per call) on stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "chored/notify.h"
#include "chored/report.h"
#include "job_private.h"

static void print_record(void *data, struct json_object *rec)
{
	(void)data;
	fprintf(stderr, "%s\n", json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN));
}

static const char *str(struct json_object *doc, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(doc, key, &v) && json_object_is_type(v, json_type_string)
	           ? json_object_get_string(v)
	           : NULL;
}

static int status_of(const char *s, enum chored_status *out)
{
	if (strcmp(s, "ok") == 0)
		*out = CHORED_OK;
	else if (strcmp(s, "partial") == 0)
		*out = CHORED_PARTIAL;
	else if (strcmp(s, "failed") == 0)
		*out = CHORED_FAILED;
	else
		return -1;
	return 0;
}

static struct chored_report *sample(struct chored_job *job, enum chored_status st)
{
	struct chored_report *r = chored_report_new("Weekly report");
	chored_report_set_status(r, st);
	chored_report_figure(r, "Subscribers", "12 345");
	chored_report_heading(r, 2, "Caf\xc3\xa9 bookings");
	chored_report_paragraph(r, "Run %s of %s.", chored_job_run_id(job), chored_job_name(job));
	chored_report_list_begin(r, false);
	chored_report_list_item(r, "brand-a: 3 slots");
	chored_report_list_item(r, "brand-b: 0 slots");
	chored_report_list_end(r);
	const char *hdr[] = {"brand", "slots"}, *row[] = {"brand-a", "3"};
	chored_report_table_begin(r, 2, hdr);
	chored_report_table_row(r, row);
	chored_report_table_end(r);
	chored_report_code(r, NULL, "probe-marker-line");
	return r;
}

int main(int argc, char **argv)
{
	enum chored_status st;
	if (argc < 4 || status_of(argv[3], &st) < 0) {
		fprintf(stderr,
		        "usage: notify_probe INPUT.json notify|twice|after ok|partial|failed "
		        "[SUMMARY]\n");
		return 2;
	}
	struct json_object *doc = json_object_from_file(argv[1]), *v;
	if (!doc) {
		fprintf(stderr, "notify_probe: %s: %s\n", argv[1], json_util_get_last_err());
		return 2;
	}
	const char *name = str(doc, "job");
	struct chored_job *job = chored__job_new(name ? name : "probe", NULL);
	chored__job_set_emit(job, print_record, NULL);
	if (json_object_object_get_ex(doc, "redact", &v) && json_object_is_type(v, json_type_array))
		for (size_t i = 0; i < json_object_array_length(v); i++)
			chored__job_add_redaction(
			    job, json_object_get_string(json_object_array_get_idx(v, i)));
	int64_t nominal =
	    json_object_object_get_ex(doc, "nominal", &v) ? json_object_get_int64(v) : 0;
	bool dry = json_object_object_get_ex(doc, "dry_run", &v) && json_object_get_boolean(v);
	const char *run_id = str(doc, "run_id");
	chored__job_set_run(job, run_id ? run_id : "1", nominal, dry, false, 0);
	chored__notify_setup(job, doc);
	if (argc > 4)
		chored_summary(job, "%s", argv[4]);

	if (strcmp(argv[2], "after") == 0) {
		chored_log(job, CHORED_LOG_INFO, "an info line (not in the report)");
		chored_log(job, CHORED_LOG_WARNING, "disk almost full");
		chored_log(job, CHORED_LOG_ERR, "upload failed: HTTP 503");
		chored__notify_after_run(job, st);
	} else if (strcmp(argv[2], "notify") == 0 || strcmp(argv[2], "twice") == 0) {
		struct chored_report *r = sample(job, st);
		printf("failed %d\n", chored_notify(job, r));
		if (strcmp(argv[2], "twice") == 0)
			printf("failed %d\n", chored_notify(job, r));
		/* once the plugin has notified, the runner sends no default report */
		chored__notify_after_run(job, st);
		chored_report_free(r);
	} else {
		fprintf(stderr, "notify_probe: unknown mode %s\n", argv[2]);
		return 2;
	}
	fflush(stdout);
	chored__job_free(job);
	json_object_put(doc);
	return 0;
}
