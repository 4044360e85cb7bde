/* Test driver of the report service and the Notion sink (tests/integration/sdk_report.sh).
 *
 *   report_probe render text|html|markdown|notion [N]
 *       prints the sample report (N extra paragraphs) in that format on stdout
 *   report_probe notion subpage|append N [SUBJECT]
 *       sends the sample report with N paragraphs "para 1" … "para N" to Notion; the sink's
 *       keys come from the environment: NOTION_BASE_URL, NOTION_PARENT, NOTION_TOKEN (a
 *       secret: never on the command line). Prints "ok" or "error: REASON" on stdout; the
 *       job's log records go to stderr as JSON lines. Exit 0, 1 (send failed) or 2 (usage).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "chored/report.h"
#include "job_private.h"
#include "notify_sink.h"

static void emit(void *data, struct json_object *record)
{
	(void)data;
	fprintf(stderr, "%s\n", json_object_to_json_string_ext(record, JSON_C_TO_STRING_PLAIN));
}

/* A header block, then n paragraphs: the Notion rendering has 1 + n + 1 blocks with the
 * status callout when `plain` (so n + 2 = the block count), the full sample otherwise. */
static struct chored_report *sample(long n, bool plain)
{
	struct chored_report *r = chored_report_new("Probe report");
	chored_report_heading(r, 1, "Paragraphs");
	for (long i = 1; i <= n; i++)
		chored_report_paragraph(r, "para %ld", i);
	if (plain)
		return r;
	chored_report_heading(r, 2, "Details & <escapes>");
	chored_report_list_begin(r, false);
	chored_report_list_item(r, "brand A: 12 slots");
	chored_report_list_item(r, "brand B | `7`");
	chored_report_list_end(r);
	chored_report_table_begin(r, 2, (const char *[]){"Page", "Slots"});
	chored_report_table_row(r, (const char *[]){"日本語", "12"});
	chored_report_table_row(r, (const char *[]){"brand-b", "7"});
	chored_report_table_end(r);
	chored_report_code(r, "json", "{\"dead\":[]}");
	chored_report_figure(r, "Subscribers", "12 345");
	return r;
}

static int render(const char *fmt, long n)
{
	struct chored_report *r = sample(n, false);
	chored_report_set_status(r, CHORED_PARTIAL);
	char *s = NULL;
	if (strcmp(fmt, "text") == 0)
		s = chored_report_text(r);
	else if (strcmp(fmt, "html") == 0)
		s = chored_report_html(r);
	else if (strcmp(fmt, "markdown") == 0)
		s = chored_report_markdown(r);
	else if (strcmp(fmt, "notion") == 0) {
		struct json_object *b = chored_report_notion_blocks(r);
		s = strdup(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PRETTY));
		json_object_put(b);
	} else {
		chored_report_free(r);
		fprintf(stderr, "report_probe: unknown format %s\n", fmt);
		return 2;
	}
	fputs(s, stdout);
	free(s);
	chored_report_free(r);
	return 0;
}

static void key(struct json_object *keys, const char *name, const char *env)
{
	const char *v = getenv(env);
	if (v)
		json_object_object_add(keys, name, json_object_new_string(v));
}

static int notion(const char *mode, long n, const char *subject)
{
	struct chored_job *job = chored__job_new("report-probe", NULL);
	chored__job_set_emit(job, emit, NULL);
	const char *token = getenv("NOTION_TOKEN");
	if (token && *token)
		chored__job_add_redaction(job, token);
	struct json_object *keys = json_object_new_object();
	key(keys, "base_url", "NOTION_BASE_URL");
	key(keys, "parent_page", "NOTION_PARENT");
	key(keys, "token", "NOTION_TOKEN");
	json_object_object_add(keys, "mode", json_object_new_string(mode));
	struct notify_sink sink = {
	    .name = "notion", .type = "notion", .policy = "always", .keys = keys};
	struct chored_report *r = sample(n, true);
	char err[1024] = "";
	int rc = notify_notion_send(job, &sink, r, subject, err, sizeof err);
	if (rc == 0)
		printf("ok\n");
	else
		printf("error: %s\n", err);
	chored_report_free(r);
	json_object_put(keys);
	chored__job_free(job);
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "render") == 0)
		return render(argv[2], argc > 3 ? strtol(argv[3], NULL, 10) : 0);
	if (argc >= 4 && strcmp(argv[1], "notion") == 0)
		return notion(argv[2], strtol(argv[3], NULL, 10),
		              argc > 4 ? argv[4] : "[chored] \xE2\x9C\x85 report-probe: ok");
	fprintf(stderr, "usage: report_probe render text|html|markdown|notion [N]\n"
	                "       report_probe notion subpage|append N [SUBJECT]\n");
	return 2;
}
