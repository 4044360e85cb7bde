/* libchored job object: schema defaults, typed getters, redaction, records in order, check
 * errors, state and the cancel flag. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "job_private.h"

static const struct chored_option opts[] = {
    {"command", CHORED_OPT_STRING, CHORED_OPT_REQUIRED, NULL, "what to run"},
    {"method", CHORED_OPT_STRING, 0, "GET", "HTTP method"},
    {"retries", CHORED_OPT_INT, 0, "3", "attempts"},
    {"timeout", CHORED_OPT_DURATION, 0, "1h30m", "limit"},
    {"max", CHORED_OPT_SIZE, 0, "64M", "size"},
    {"verbose", CHORED_OPT_BOOL, 0, "no", "chatty"},
    {"token", CHORED_OPT_STRING, CHORED_OPT_SECRET, NULL, "secret"},
    {NULL, 0, 0, NULL, NULL},
};

static const struct chored_plugin plug = {
    CHORED_PLUGIN_HEADER, .name = "t", .version = "1", .summary = "test", .options = opts,
};

/* Records received by the sink, as JSON text, in order. */
struct sink {
	char *rec[32];
	size_t n;
};

static void sink_emit(void *data, struct json_object *record)
{
	struct sink *s = data;
	assert_true(s->n < 32);
	s->rec[s->n++] = strdup(json_object_to_json_string_ext(record, JSON_C_TO_STRING_PLAIN));
}

static void sink_free(struct sink *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->rec[i]);
	s->n = 0;
}

static void test_defaults(void **st)
{
	(void)st;
	struct chored_job *j = chored__job_new("nightly", &plug);
	assert_string_equal(chored_job_name(j), "nightly");
	assert_string_equal(chored_job_run_id(j), "");
	assert_null(chored_job_opt(j, "command"));   /* unset, no default */
	assert_null(chored_job_opt(j, "nosuchkey")); /* not in the schema */
	assert_string_equal(chored_job_opt(j, "method"), "GET");
	chored__job_set_opt(j, "method", "POST");
	assert_string_equal(chored_job_opt(j, "method"), "POST");
	chored__job_set_opt(j, "command", "/bin/true");
	assert_string_equal(chored_job_opt(j, "command"), "/bin/true");
	chored__job_set_opt(j, "method", "PUT"); /* the last value wins */
	assert_string_equal(chored_job_opt(j, "method"), "PUT");
	chored__job_free(j);
}

static void test_getters(void **st)
{
	(void)st;
	struct chored_job *j = chored__job_new("g", &plug);
	assert_int_equal(chored_job_opt_int(j, "retries"), 3);
	assert_int_equal(chored_job_opt_int(j, "timeout"), 5400);
	assert_int_equal(chored_job_opt_size(j, "max"), 64u << 20);
	assert_false(chored_job_opt_bool(j, "verbose"));
	assert_int_equal(chored_job_opt_int(j, "command"), 0); /* unset */

	chored__job_set_opt(j, "retries", "-12");
	assert_int_equal(chored_job_opt_int(j, "retries"), -12);
	chored__job_set_opt(j, "retries", "9223372036854775807");
	assert_true(chored_job_opt_int(j, "retries") == INT64_MAX);
	chored__job_set_opt(j, "timeout", "2w3d");
	assert_int_equal(chored_job_opt_int(j, "timeout"), 2 * 604800 + 3 * 86400);
	chored__job_set_opt(j, "timeout", "90s");
	assert_int_equal(chored_job_opt_int(j, "timeout"), 90);
	chored__job_set_opt(j, "timeout", "0");
	assert_int_equal(chored_job_opt_int(j, "timeout"), 0);
	chored__job_set_opt(j, "max", "512K");
	assert_int_equal(chored_job_opt_size(j, "max"), 512 * 1024);
	chored__job_set_opt(j, "max", "1G");
	assert_int_equal(chored_job_opt_size(j, "max"), 1u << 30);
	chored__job_set_opt(j, "max", "100");
	assert_int_equal(chored_job_opt_size(j, "max"), 100);
	const char *yes[] = {"yes", "true", "on", "1"}, *no[] = {"no", "false", "off", "0"};
	for (int i = 0; i < 4; i++) {
		chored__job_set_opt(j, "verbose", yes[i]);
		assert_true(chored_job_opt_bool(j, "verbose"));
		chored__job_set_opt(j, "verbose", no[i]);
		assert_false(chored_job_opt_bool(j, "verbose"));
	}
	chored__job_free(j);
}

static void test_run_fields(void **st)
{
	(void)st;
	struct chored_job *j = chored__job_new("r", &plug);
	chored__job_set_run(j, "run-42", 1767225600, true, false, 0);
	assert_string_equal(chored_job_run_id(j), "run-42");
	assert_int_equal(chored_job_nominal_time(j), 1767225600);
	assert_true(chored_job_dry_run(j));
	int64_t before = (int64_t)time(NULL);
	int64_t now = chored_job_now(j);
	assert_true(now >= before && now <= before + 5);
	chored__job_set_run(j, "run-43", 1767225600, false, true, 1000000000);
	assert_int_equal(chored_job_now(j), 1000000000);
	assert_false(chored_job_dry_run(j));
	chored__job_free(j);
}

static void test_redact(void **st)
{
	(void)st;
	struct chored_job *j = chored__job_new("s", &plug);
	char *r = chored__job_redact(j, "nothing to hide");
	assert_string_equal(r, "nothing to hide");
	free(r);
	chored__job_add_redaction(j, ""); /* ignored: would match everywhere */
	chored__job_add_redaction(j, "pass");
	chored__job_add_redaction(j, "password");
	chored__job_set_opt(j, "token", "tok3n"); /* a SECRET option registers itself */
	struct {
		const char *in, *want;
	} cases[] = {
	    {"password", "***"}, /* the longer secret whole, no "***word" */
	    {"my pass is password", "my *** is ***"},
	    {"tok3n", "***"},                         /* the whole line */
	    {"x=tok3n", "x=***"},                     /* at the end */
	    {"tok3n=x", "***=x"},                     /* at the start */
	    {"tok3ntok3n", "***"},                    /* adjacent occurrences: one run */
	    {"passtok3n!", "***!"},                   /* two secrets back to back */
	    {"a tok3n\nb tok3n\n", "a ***\nb ***\n"}, /* at line ends */
	    {"tok3\nn", "tok3\nn"},                   /* a line break splits it: no match */
	    {"", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		r = chored__job_redact(j, cases[i].in);
		assert_string_equal(r, cases[i].want);
		free(r);
	}
	chored__job_free(j);

	/* Overlapping secrets: neither leaves a fragment. */
	j = chored__job_new("o", &plug);
	chored__job_add_redaction(j, "abc");
	chored__job_add_redaction(j, "bcd");
	r = chored__job_redact(j, "xabcdy");
	assert_string_equal(r, "x***y");
	free(r);
	chored__job_free(j);
}

static void test_records(void **st)
{
	(void)st;
	struct sink s = {0};
	struct chored_job *j = chored__job_new("rec", &plug);
	chored__job_set_emit(j, sink_emit, &s);
	chored__job_set_opt(j, "token", "S3CRET");
	chored_log(j, CHORED_LOG_INFO, "hello %d S3CRET", 7);
	chored_log_kv(j, CHORED_LOG_WARNING, "uploaded", "bytes", "1024", "auth", "Bearer S3CRET",
	              NULL);
	chored_progress(j, 3, 10);
	chored_counter_add(j, "pages", -2);
	chored_summary(j, "first");
	chored_summary(j, "done with S3CRET");
	chored__job_set_state(j, "n", "1");
	assert_string_equal(chored_state_get(j, "n"), "1");
	chored_state_set(j, "n", "2");
	chored_state_set(j, "gone", NULL);
	chored_log(j, 99, "level clamped");
	const char *want[] = {
	    "{\"t\":\"log\",\"level\":6,\"msg\":\"hello 7 ***\"}",
	    "{\"t\":\"log\",\"level\":4,\"msg\":\"uploaded\",\"fields\":{\"bytes\":\"1024\","
	    "\"auth\":\"Bearer ***\"}}",
	    "{\"t\":\"progress\",\"done\":3,\"total\":10}",
	    "{\"t\":\"counter\",\"name\":\"pages\",\"delta\":-2}",
	    "{\"t\":\"summary\",\"text\":\"first\"}",
	    "{\"t\":\"summary\",\"text\":\"done with ***\"}",
	    "{\"t\":\"state\",\"key\":\"n\",\"value\":\"2\"}",
	    "{\"t\":\"state\",\"key\":\"gone\",\"value\":null}",
	    "{\"t\":\"log\",\"level\":7,\"msg\":\"level clamped\"}",
	};
	assert_int_equal(s.n, sizeof want / sizeof *want);
	for (size_t i = 0; i < s.n; i++)
		assert_string_equal(s.rec[i], want[i]);
	assert_string_equal(chored__job_summary(j), "done with ***");
	assert_string_equal(chored_state_get(j, "n"), "2");
	assert_null(chored_state_get(j, "gone"));
	assert_null(chored_state_get(j, "never"));
	sink_free(&s);
	chored__job_free(j);
}

static void test_no_sink(void **st)
{
	(void)st;
	/* Check time: no emit callback; records are dropped, the summary still kept. */
	struct chored_job *j = chored__job_new("quiet", &plug);
	chored_log(j, CHORED_LOG_ERR, "dropped");
	chored_summary(j, "kept");
	assert_string_equal(chored__job_summary(j), "kept");
	chored__job_free(j);
	j = chored__job_new("none", NULL); /* no schema at all */
	assert_null(chored_job_opt(j, "x"));
	assert_string_equal(chored__job_summary(j), "");
	chored__job_free(j);
}

static void test_error(void **st)
{
	(void)st;
	struct chored_job *j = chored__job_new("e", &plug);
	assert_null(chored__job_error_message(j));
	assert_null(chored__job_error_key(j));
	chored__job_set_opt(j, "token", "hunter2");
	chored_job_error(j, "command", "unbalanced quote at %d (hunter2)", 5);
	assert_string_equal(chored__job_error_message(j), "unbalanced quote at 5 (***)");
	assert_string_equal(chored__job_error_key(j), "command");
	chored_job_error(j, NULL, "second");
	assert_string_equal(chored__job_error_message(j), "second");
	assert_null(chored__job_error_key(j));
	chored__job_free(j);
}

static void test_cancel(void **st)
{
	(void)st;
	struct chored_job *j = chored__job_new("c", &plug);
	assert_false(chored_job_cancelled(j));
	chored__job_cancel(j);
	assert_true(chored_job_cancelled(j));
	chored__job_cancel(j);
	assert_true(chored_job_cancelled(j));
	chored__job_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),   cmocka_unit_test(test_getters),
	    cmocka_unit_test(test_run_fields), cmocka_unit_test(test_redact),
	    cmocka_unit_test(test_records),    cmocka_unit_test(test_no_sink),
	    cmocka_unit_test(test_error),      cmocka_unit_test(test_cancel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
