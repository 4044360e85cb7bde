/* Test driver of the db service: opens one connection and runs commands on it, as a plugin
 * would. Used by tests/integration/sdk_db.sh.
 *
 *   db_probe [-b BASE_URL] [-i POLL_MS] [-T TIMEOUT_MS] [-n] URL CMD [ARG...] [-- CMD ...]
 *
 * Secrets come from the environment, as a host passes secret options: DB_PROBE_TOKEN (d1)
 * and DB_PROBE_PASSWORD (postgresql); both are registered for redaction like secrets.
 * Commands (parameters: s:TEXT, i:INTEGER, null):
 *   exec SQL [PARAM...]     prints "changes N"
 *   query SQL [PARAM...]    prints the column names, then each row, tab-separated, NULL as \N
 *   count-rows SQL [PARAM...]  iterates without printing; prints "rows N"
 *   int SQL [PARAM...]      prints chored_db_query_int's value
 *   begin | commit | rollback
 *   tables                  prints each table with its row count
 *   dump FILE | restore FILE (prints "statements N")
 *   open-rows SQL           leaves a result set open, for the busy-connection check
 *   sh COMMAND              runs COMMAND (a test queues a fake's fault after the open)
 *   try CMD...              runs CMD; its error is printed but the next commands still run
 * Log records are printed as JSON lines on stderr; errors as "error: MESSAGE", exit 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "chored/db.h"
#include "job_private.h"

static void emit(void *data, struct json_object *record)
{
	(void)data;
	fprintf(stderr, "%s\n", json_object_to_json_string_ext(record, JSON_C_TO_STRING_PLAIN));
}

static int parse_params(char **argv, int n, struct chored_db_param *p)
{
	for (int i = 0; i < n; i++) {
		if (strncmp(argv[i], "s:", 2) == 0) {
			p[i] = CHORED_DB_P_TEXT(argv[i] + 2);
		} else if (strncmp(argv[i], "i:", 2) == 0) {
			p[i] = CHORED_DB_P_INT(strtoll(argv[i] + 2, NULL, 10));
		} else if (strcmp(argv[i], "null") == 0) {
			p[i] = CHORED_DB_P_NULL;
		} else {
			fprintf(stderr, "db_probe: bad parameter \"%s\" (s:TEXT, i:N, null)\n",
			        argv[i]);
			return -1;
		}
	}
	return 0;
}

static int print_table(const char *name, void *data)
{
	struct chored_db *db = data;
	int64_t n;
	if (chored_db_count(db, name, &n) < 0)
		return -1;
	printf("%s %lld\n", name, (long long)n);
	return 0;
}

static struct chored_db_rows *held;

/* Runs one command (argv[0..argc)). Returns 0 or -1 (the error is on the connection). */
static int run(struct chored_db *db, int argc, char **argv)
{
	const char *cmd = argv[0];
	struct chored_db_param p[32];
	int np = argc > 2 ? argc - 2 : 0;
	bool takes = strcmp(cmd, "exec") == 0 || strcmp(cmd, "query") == 0 ||
	             strcmp(cmd, "count-rows") == 0 || strcmp(cmd, "int") == 0;
	if (takes && (np > 32 || parse_params(argv + 2, np, p) < 0))
		exit(2);
	if (strcmp(cmd, "exec") == 0 && argc >= 2) {
		int64_t ch;
		if (chored_db_exec(db, argv[1], p, (size_t)np, &ch) < 0)
			return -1;
		printf("changes %lld\n", (long long)ch);
	} else if ((strcmp(cmd, "query") == 0 || strcmp(cmd, "count-rows") == 0) && argc >= 2) {
		bool quiet = cmd[0] == 'c';
		struct chored_db_rows *r = chored_db_query(db, argv[1], p, (size_t)np);
		if (!r)
			return -1;
		int nc = chored_db_columns(r), rc;
		for (int i = 0; i < nc && !quiet; i++)
			printf("%s%s", i ? "\t" : "", chored_db_column_name(r, i));
		if (!quiet)
			printf("\n");
		long long rows = 0;
		while ((rc = chored_db_next(r)) == 1) {
			rows++;
			for (int i = 0; i < nc && !quiet; i++)
				printf("%s%s", i ? "\t" : "",
				       chored_db_is_null(r, i) ? "\\N" : chored_db_value(r, i));
			if (!quiet)
				printf("\n");
		}
		chored_db_rows_free(r);
		if (rc < 0)
			return -1;
		if (quiet)
			printf("rows %lld\n", rows);
	} else if (strcmp(cmd, "int") == 0 && argc >= 2) {
		int64_t v;
		if (chored_db_query_int(db, argv[1], p, (size_t)np, &v) < 0)
			return -1;
		printf("%lld\n", (long long)v);
	} else if (strcmp(cmd, "open-rows") == 0 && argc >= 2) {
		if (!(held = chored_db_query(db, argv[1], NULL, 0)))
			return -1;
	} else if (strcmp(cmd, "sh") == 0 && argc == 2) {
		fflush(stdout);
		if (system(argv[1]) != 0) {
			fprintf(stderr, "db_probe: command failed: %s\n", argv[1]);
			exit(2);
		}
	} else if (strcmp(cmd, "try") == 0 && argc >= 2) {
		if (run(db, argc - 1, argv + 1) < 0)
			printf("error: %s\n", chored_db_error(db));
	} else if (strcmp(cmd, "begin") == 0) {
		return chored_db_begin(db);
	} else if (strcmp(cmd, "commit") == 0) {
		return chored_db_commit(db);
	} else if (strcmp(cmd, "rollback") == 0) {
		return chored_db_rollback(db);
	} else if (strcmp(cmd, "tables") == 0) {
		return chored_db_tables(db, print_table, db) == 0 ? 0 : -1;
	} else if (strcmp(cmd, "dump") == 0 && argc == 2) {
		return chored_db_dump_file(db, argv[1]);
	} else if (strcmp(cmd, "restore") == 0 && argc == 2) {
		int64_t n;
		if (chored_db_restore_file(db, argv[1], &n) < 0)
			return -1;
		printf("statements %lld\n", (long long)n);
	} else {
		fprintf(stderr, "db_probe: unknown command or arguments: %s\n", cmd);
		exit(2);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct chored_db_options o = {0};
	int c;
	while ((c = getopt(argc, argv, "+b:i:T:n")) != -1) {
		switch (c) {
		case 'b':
			o.base_url = optarg;
			break;
		case 'i':
			o.poll_interval_ms = atol(optarg);
			break;
		case 'T':
			o.timeout_ms = atol(optarg);
			break;
		case 'n':
			o.no_create = true;
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 >= argc) {
		fprintf(stderr, "usage: db_probe [-b BASE] [-i POLL_MS] [-T MS] [-n] URL CMD...\n");
		return 2;
	}
	o.token = getenv("DB_PROBE_TOKEN");
	o.password = getenv("DB_PROBE_PASSWORD");
	struct chored_job *job = chored__job_new("db-probe", NULL);
	chored__job_set_emit(job, emit, NULL);
	if (o.token)
		chored__job_add_redaction(job, o.token);
	if (o.password)
		chored__job_add_redaction(job, o.password);
	char err[512];
	struct chored_db *db = chored_db_open(job, argv[optind], &o, err, sizeof err);
	if (!db) {
		printf("error: %s\n", err);
		chored__job_free(job);
		return 1;
	}
	int status = 0;
	char **cmd = argv + optind + 1;
	int left = argc - optind - 1;
	while (left > 0 && status == 0) {
		int n = 0;
		while (n < left && strcmp(cmd[n], "--") != 0)
			n++;
		if (n && run(db, n, cmd) < 0) {
			printf("error: %s\n", chored_db_error(db));
			status = 1;
		}
		fflush(stdout);
		cmd += n + (n < left);
		left -= n + (n < left);
	}
	chored_db_rows_free(held);
	chored_db_close(db);
	chored__job_free(job);
	return status;
}
