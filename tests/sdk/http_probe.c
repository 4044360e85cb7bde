/* Test driver of the http service (tests/integration/sdk_http.sh): performs one request,
 * JSON request or listing per argv with a job from the host API, prints the job's records
 * as JSON lines on stderr and the outcome on stdout, one "name=value" line per field (strings
 * as they are, other values as compact JSON) so that a shell test reads them with sed.
 *
 * usage: http_probe [options] do|json|page URL
 *   --method M  --header "N: v"  --bearer T  --body S  --stream-body S  --no-rewind
 *   --json-body S  --write  --print-body  --show-header NAME  --attempts N  --base-ms N
 *   --max-ms N  --timeout-ms N  --connect-timeout-ms N  --retry-status N
 *   --no-retry-after-send  --max-body N  --secret S  --cancel-after-ms N
 *   --aws-sigv4 S  --aws-credentials C
 *   page: --kind cursor|offset|token  --items P  --size-param P  --size N
 *         --cursor-param P  --next-path P  --more-path P  --max-pages N  --stop-after N
 *         --id-path P (printed ids, default "id") */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <json-c/json.h>

#include "chored/http.h"
#include "job_private.h"

static struct chored_job *job;

static void emit(void *data, struct json_object *rec)
{
	(void)data;
	fprintf(stderr, "%s\n", json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN));
}

static void on_alarm(int sig)
{
	(void)sig;
	chored__job_cancel(job);
}

/* A body read from a string through the read callback. */
struct stream {
	const char *s;
	size_t len, pos;
	int rewinds;
};

static size_t stream_read(void *buf, size_t len, void *data)
{
	struct stream *st = data;
	size_t n = st->len - st->pos < len ? st->len - st->pos : len;
	memcpy(buf, st->s + st->pos, n);
	st->pos += n;
	return n;
}

static int stream_rewind(void *data)
{
	struct stream *st = data;
	st->pos = 0;
	st->rewinds++;
	return 0;
}

static size_t count_write(const void *buf, size_t len, void *data)
{
	(void)buf;
	*(size_t *)data += len;
	return len;
}

struct walk {
	const char *id_path;
	long stop_after;
	long n;
	struct json_object *ids;
};

static int each_item(struct json_object *item, void *data)
{
	struct walk *w = data;
	struct json_object *id = chored_json_path(item, w->id_path);
	json_object_array_add(w->ids, json_object_get(id));
	w->n++;
	return w->stop_after && w->n >= w->stop_after ? 7 : 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void print_fields(struct json_object *out)
{
	json_object_object_foreach(out, key, val)
	{
		if (json_object_is_type(val, json_type_string))
			printf("%s=%s\n", key, json_object_get_string(val));
		else
			printf("%s=%s\n", key,
			       json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: http_probe [options] do|json|page URL\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct chored_http_request req = {0};
	struct chored_http_pager pager = {.kind = CHORED_PAGE_CURSOR};
	const char *headers[17] = {0}, *show[8] = {0}, *json_body = NULL;
	size_t n_headers = 0, n_show = 0, written = 0;
	long retry_status[2] = {0}, cancel_ms = 0;
	bool use_write = false, print_body = false, no_rewind = false;
	struct stream st = {0};
	struct walk w = {.id_path = "id"};

	job = chored__job_new("probe", NULL);
	chored__job_set_emit(job, emit, NULL);
	int i = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *o = argv[i];
		if (strcmp(o, "--write") == 0) {
			use_write = true;
			continue;
		}
		if (strcmp(o, "--print-body") == 0) {
			print_body = true;
			continue;
		}
		if (strcmp(o, "--no-rewind") == 0) {
			no_rewind = true;
			continue;
		}
		if (strcmp(o, "--no-retry-after-send") == 0) {
			req.no_retry_after_send = true;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		const char *v = argv[++i];
		if (strcmp(o, "--method") == 0)
			req.method = v;
		else if (strcmp(o, "--header") == 0 && n_headers < 16)
			headers[n_headers++] = v;
		else if (strcmp(o, "--show-header") == 0 && n_show < 8)
			show[n_show++] = v;
		else if (strcmp(o, "--bearer") == 0)
			req.bearer = v;
		else if (strcmp(o, "--body") == 0)
			req.body = v, req.body_len = strlen(v);
		else if (strcmp(o, "--stream-body") == 0)
			st.s = v, st.len = strlen(v);
		else if (strcmp(o, "--json-body") == 0)
			json_body = v;
		else if (strcmp(o, "--attempts") == 0)
			req.max_attempts = (unsigned)atoi(v);
		else if (strcmp(o, "--base-ms") == 0)
			req.backoff_base_ms = atol(v);
		else if (strcmp(o, "--max-ms") == 0)
			req.backoff_max_ms = atol(v);
		else if (strcmp(o, "--timeout-ms") == 0)
			req.timeout_ms = atol(v);
		else if (strcmp(o, "--connect-timeout-ms") == 0)
			req.connect_timeout_ms = atol(v);
		else if (strcmp(o, "--retry-status") == 0)
			retry_status[0] = atol(v), req.retry_status = retry_status;
		else if (strcmp(o, "--max-body") == 0)
			req.max_body = (size_t)atol(v);
		else if (strcmp(o, "--secret") == 0)
			chored__job_add_redaction(job, v);
		else if (strcmp(o, "--cancel-after-ms") == 0)
			cancel_ms = atol(v);
		else if (strcmp(o, "--aws-sigv4") == 0)
			req.aws_sigv4 = v;
		else if (strcmp(o, "--aws-credentials") == 0)
			req.aws_credentials = v;
		else if (strcmp(o, "--kind") == 0)
			pager.kind = strcmp(v, "offset") == 0  ? CHORED_PAGE_OFFSET
			             : strcmp(v, "token") == 0 ? CHORED_PAGE_PAGE_TOKEN
			                                       : CHORED_PAGE_CURSOR;
		else if (strcmp(o, "--items") == 0)
			pager.items = v;
		else if (strcmp(o, "--size-param") == 0)
			pager.size_param = v;
		else if (strcmp(o, "--size") == 0)
			pager.size = atol(v);
		else if (strcmp(o, "--cursor-param") == 0)
			pager.cursor_param = v;
		else if (strcmp(o, "--next-path") == 0)
			pager.next_path = v;
		else if (strcmp(o, "--more-path") == 0)
			pager.more_path = v;
		else if (strcmp(o, "--max-pages") == 0)
			pager.max_pages = atol(v);
		else if (strcmp(o, "--stop-after") == 0)
			w.stop_after = atol(v);
		else if (strcmp(o, "--id-path") == 0)
			w.id_path = v;
		else
			usage();
	}
	if (argc - i != 2)
		usage();
	const char *cmd = argv[i];
	req.url = argv[i + 1];
	req.headers = n_headers ? headers : NULL;
	if (st.s) {
		req.read = stream_read;
		req.rewind = no_rewind ? NULL : stream_rewind;
		req.read_data = &st;
		req.body_size = (int64_t)st.len;
	}
	if (use_write) {
		req.write = count_write;
		req.write_data = &written;
	}
	if (cancel_ms) {
		signal(SIGALRM, on_alarm);
		struct itimerval it = {.it_value = {cancel_ms / 1000, (cancel_ms % 1000) * 1000}};
		setitimer(ITIMER_REAL, &it, NULL);
	}

	struct chored_http_response resp;
	struct json_object *out = json_object_new_object(), *parsed = NULL, *body = NULL;
	int64_t t0 = mono_ms();
	int rc;
	if (strcmp(cmd, "do") == 0) {
		rc = chored_http_do(job, &req, &resp);
	} else if (strcmp(cmd, "json") == 0) {
		body = json_body ? json_tokener_parse(json_body) : NULL;
		rc = chored_http_json(job, &req, body, &parsed, &resp);
	} else if (strcmp(cmd, "page") == 0) {
		w.ids = json_object_new_array();
		rc = chored_http_paginate(job, &req, &pager, each_item, &w, &resp);
		json_object_object_add(out, "items", json_object_new_int64(w.n));
		json_object_object_add(out, "ids", w.ids);
	} else {
		usage();
		return 2;
	}
	int64_t elapsed = mono_ms() - t0;
	json_object_object_add(out, "rc", json_object_new_int(rc));
	json_object_object_add(out, "status", json_object_new_int64(resp.status));
	json_object_object_add(out, "attempts", json_object_new_int64(resp.attempts));
	json_object_object_add(out, "waited_ms", json_object_new_int64(resp.waited_ms));
	json_object_object_add(out, "elapsed_ms", json_object_new_int64(elapsed));
	json_object_object_add(out, "error", json_object_new_string(resp.error));
	json_object_object_add(out, "body_len", json_object_new_int64((int64_t)resp.body_len));
	json_object_object_add(out, "written", json_object_new_int64((int64_t)written));
	json_object_object_add(out, "rewinds", json_object_new_int(st.rewinds));
	json_object_object_add(out, "body_null", json_object_new_boolean(resp.body == NULL));
	if (print_body && resp.body)
		json_object_object_add(out, "body", json_object_new_string(resp.body));
	if (parsed)
		json_object_object_add(out, "json", parsed);
	for (size_t k = 0; k < n_show; k++) {
		const char *hv = chored_http_header(&resp, show[k]);
		json_object_object_add(out, show[k], hv ? json_object_new_string(hv) : NULL);
	}
	print_fields(out);
	json_object_put(out);
	json_object_put(body);
	chored_http_response_free(&resp);
	chored__job_free(job);
	return rc == 0 ? 0 : 1;
}
