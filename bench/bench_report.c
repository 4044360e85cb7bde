/* A 5,000-line report (paragraphs, list items, table rows, a few headings and code blocks):
 * the render time of each format, then its delivery to the Notion fake
 * (tests/fakes/notion_fake.py, started here): requests made against the fewest Notion's
 * limits allow (100 blocks, 1000 block elements, 500 KB per request), and the time taken —
 * once without a rate limit and once behind the fake's 3 requests/s limiter (429 +
 * Retry-After waited out). CHORED_BENCH_SRCDIR overrides the compiled-in source tree. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bench_util.h"
#include "chored/http.h"
#include "chored/report.h"
#include "job_private.h"
#include "notify_sink.h"

#define LINES 5000
#define RUNS  11
#define TOKEN "secret_bench_token"
#define PAGE  "1f217cc1-225f-4580-8e22-cd7eb8db3c5e"

static struct chored_report *build(void)
{
	struct chored_report *r = chored_report_new("Weekly crawl — 5,000 lines");
	chored_report_set_status(r, CHORED_PARTIAL);
	chored_report_figure(r, "Pages", "12 345");
	chored_report_figure(r, "Dead links", "17");
	int line = 0;
	for (int part = 0; line < LINES; part++) {
		chored_report_heading(r, 1 + part % 3, "Section");
		for (int i = 0; i < 40 && line < LINES; i++, line++)
			chored_report_paragraph(
			    r,
			    "Paragraph %d: the crawler visited brand-%d and "
			    "found %d pages, %d of them changed since last week.",
			    line, part, line * 7 % 1000, line % 13);
		chored_report_list_begin(r, part % 2);
		for (int i = 0; i < 40 && line < LINES; i++, line++)
			chored_report_list_item(r, "https://brand-%d.example/page/%d — HTTP %d",
			                        part, i, i % 5 ? 200 : 404);
		chored_report_list_end(r);
		chored_report_table_begin(r, 3, (const char *[]){"Page", "Status", "Bytes"});
		char a[64], b[16], c[16];
		for (int i = 0; i < 20 && line < LINES; i++, line++) {
			snprintf(a, sizeof a, "/p/%d/%d", part, i);
			snprintf(b, sizeof b, "%d", i % 5 ? 200 : 404);
			snprintf(c, sizeof c, "%d", 1000 + i * 37);
			chored_report_table_row(r, (const char *[]){a, b, c});
		}
		chored_report_table_end(r);
		if (part % 10 == 0)
			chored_report_code(r, "json", "{\"dead\": [\"/a\", \"/b\"], \"ok\": 42}");
	}
	return r;
}

typedef char *(*render_fn)(const struct chored_report *r);

static char *notion_render(const struct chored_report *r)
{
	struct json_object *b = chored_report_notion_blocks(r);
	char *s = strdup(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN));
	json_object_put(b);
	return s;
}

static void bench_render(const struct chored_report *r)
{
	static const struct {
		const char *name;
		render_fn fn;
	} fmts[] = {{"text", chored_report_text},
	            {"html", chored_report_html},
	            {"markdown", chored_report_markdown},
	            {"notion", notion_render}};
	printf("render (%d lines, median of %d):\n", LINES, RUNS);
	for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++) {
		double ms[RUNS];
		size_t bytes = 0;
		for (int i = 0; i < RUNS; i++) {
			int64_t t0 = bench_now_ns();
			char *s = fmts[f].fn(r);
			ms[i] = (double)(bench_now_ns() - t0) / 1e6;
			bytes = strlen(s);
			free(s);
		}
		printf("  %-9s %8.2f ms  %8zu bytes  %6.1f MB/s\n", fmts[f].name,
		       bench_median(ms, RUNS), bytes,
		       (double)bytes / 1e6 / (bench_median(ms, RUNS) / 1e3));
	}
}

/* The fewest requests the limits allow for `blocks`: each request carries at most 100
 * top-level blocks, 1000 block elements and 500 KB. */
static size_t min_requests(struct json_object *blocks, size_t *nelements, size_t *nbytes)
{
	size_t n = json_object_array_length(blocks), elems = 0, bytes = 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *b = json_object_array_get_idx(blocks, i), *t;
		elems++;
		if (json_object_object_get_ex(b, "table", &t) &&
		    json_object_object_get_ex(t, "children", &t))
			elems += json_object_array_length(t);
		bytes += strlen(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN)) + 1;
	}
	*nelements = elems;
	*nbytes = bytes;
	size_t a = (n + 99) / 100, e = (elems + 999) / 1000, by = (bytes + 499999) / 500000;
	return a > e ? (a > by ? a : by) : (e > by ? e : by);
}

static pid_t start_fake(const char *dir, const char *rate, char *base, size_t len)
{
	const char *src = getenv("CHORED_BENCH_SRCDIR");
	if (!src)
		src = BENCH_TOP_SRCDIR;
	char fake[4096], portfile[4096];
	snprintf(fake, sizeof fake, "%s/tests/fakes/notion_fake.py", src);
	snprintf(portfile, sizeof portfile, "%s/port-%s", dir, rate);
	pid_t pid = fork();
	if (pid == 0) {
		execlp("python3", "python3", fake, portfile, "--token", TOKEN, "--page", PAGE,
		       "--rate", rate, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 400; i++) {
		FILE *f = fopen(portfile, "r");
		int port = 0;
		if (f && fscanf(f, "%d", &port) == 1 && port > 0) {
			fclose(f);
			snprintf(base, len, "http://127.0.0.1:%d", port);
			return pid;
		}
		if (f)
			fclose(f);
		usleep(50000);
	}
	fprintf(stderr, "bench_report: the Notion fake did not start (%s)\n", fake);
	kill(pid, SIGTERM);
	return -1;
}

/* Requests the fake saw, and how many of them it answered 429 (from the job's log). */
static size_t fake_requests(struct chored_job *job, const char *base)
{
	char url[256];
	snprintf(url, sizeof url, "%s/_fake/requests", base);
	struct chored_http_request req = {.url = url, .max_body = 256u << 20};
	struct chored_http_response resp;
	struct json_object *out = NULL;
	size_t n = 0;
	if (chored_http_json(job, &req, NULL, &out, &resp) == 0)
		n = json_object_array_length(out);
	json_object_put(out);
	chored_http_response_free(&resp);
	return n;
}

static unsigned retried;

static void count_retries(void *data, struct json_object *rec)
{
	(void)data;
	struct json_object *msg;
	if (json_object_object_get_ex(rec, "msg", &msg) &&
	    strcmp(json_object_get_string(msg), "http: retrying") == 0)
		retried++;
}

static int bench_send(const struct chored_report *r, const char *dir, const char *rate,
                      size_t minimum)
{
	char base[128];
	pid_t fake = start_fake(dir, rate, base, sizeof base);
	if (fake < 0)
		return -1;
	struct chored_job *job = chored__job_new("bench-report", NULL);
	chored__job_set_emit(job, count_retries, NULL);
	struct json_object *keys = json_object_new_object();
	json_object_object_add(keys, "token", json_object_new_string(TOKEN));
	json_object_object_add(keys, "parent_page", json_object_new_string(PAGE));
	json_object_object_add(keys, "base_url", json_object_new_string(base));
	struct notify_sink sink = {.name = "bench", .type = "notion", .keys = keys};
	char err[1024];
	retried = 0;
	int64_t t0 = bench_now_ns();
	int rc =
	    notify_notion_send(job, &sink, r, "[chored] bench-report: partial", err, sizeof err);
	double ms = (double)(bench_now_ns() - t0) / 1e6;
	size_t made = fake_requests(job, base);
	if (rc != 0)
		fprintf(stderr, "bench_report: %s\n", err);
	else if (strcmp(rate, "0") == 0)
		printf("notion (no rate limit): %zu requests (minimum %zu, ratio %.2f), %.0f ms, "
		       "%.1f ms per request\n",
		       made, minimum, (double)made / (double)minimum, ms, ms / (double)made);
	else
		printf("notion (fake limiter %s req/s): %zu requests, %u of them answered 429 and "
		       "retried after Retry-After, %.0f ms (%.2f report requests/s)\n",
		       rate, made, retried, ms, (double)(made - retried) / (ms / 1e3));
	json_object_put(keys);
	chored__job_free(job);
	kill(fake, SIGTERM);
	waitpid(fake, NULL, 0);
	return rc;
}

int main(void)
{
	struct chored_report *r = build();
	bench_render(r);
	struct json_object *blocks = chored_report_notion_blocks(r);
	size_t elems, bytes;
	size_t minimum = min_requests(blocks, &elems, &bytes);
	printf("notion blocks: %zu top-level, %zu block elements, %zu bytes of JSON\n",
	       json_object_array_length(blocks), elems, bytes);
	json_object_put(blocks);
	char dir[] = "/tmp/bench_report.XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	int rc = bench_send(r, dir, "0", minimum);
	if (rc == 0)
		rc = bench_send(r, dir, "3", minimum);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_report: could not remove %s\n", dir);
	chored_report_free(r);
	return rc == 0 ? 0 : 1;
}
