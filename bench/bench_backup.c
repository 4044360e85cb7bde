/* bench_backup: one run of backup.so (through chored-run, as chored starts it) exporting a
 * SQLite database of CHORED_BENCH_BACKUP_MB MiB (default 1024) and
 * CHORED_BENCH_BACKUP_SUBS Kit subscribers (default 100 000, from tests/fakes/kit_fake.py)
 * with gzip into the S3 fake (tests/fakes/s3_fake.py), then the same work done by the
 * usual tools in the same run: `sqlite3 .backup`, `gzip`, and `curl` (Kit pages walked with
 * curl + jq, uploads with curl --aws-sigv4). Prints both times, their ratio, and the
 * runner's peak RSS (target: at most 64 MB). Needs sqlite3, gzip, curl and jq. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

#define KEYID  "AKIDBENCHBACKUP"
#define SECRET "bench+Backup/Secret=1"
#define KITKEY "kit_bench_key"

extern char **environ;

static const char *python(void)
{
	/* Debian's python3 when present: a pyenv shim first on PATH costs a second per start. */
	return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

/* Spawns argv with stdin/stdout/fd 3 on the given files (NULL: inherited / closed). */
static pid_t spawn(char *const argv[], const char *in, const char *out, const char *fd3)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (in)
		posix_spawn_file_actions_addopen(&fa, 0, in, O_RDONLY, 0);
	if (out)
		posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd3)
		posix_spawn_file_actions_addopen(&fa, 3, fd3, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc) {
		fprintf(stderr, "bench_backup: %s: %s\n", argv[0], strerror(rc));
		return -1;
	}
	return pid;
}

static int wait_port(const char *file)
{
	int port = 0;
	for (int i = 0; i < 1200 && !port; i++) {
		FILE *f = fopen(file, "r");
		if (f) {
			if (fscanf(f, "%d", &port) != 1)
				port = 0;
			fclose(f);
		}
		if (!port)
			usleep(50000);
	}
	return port;
}

static int sh(const char *script)
{
	char *argv[] = {"sh", "-ec", (char *)script, NULL};
	pid_t pid = spawn(argv, NULL, NULL, NULL);
	int ws = 0;
	if (pid < 0 || waitpid(pid, &ws, 0) < 0 || !WIFEXITED(ws) || WEXITSTATUS(ws)) {
		fprintf(stderr, "bench_backup: failed: %.200s…\n", script);
		return -1;
	}
	return 0;
}

static uint64_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

int main(void)
{
	const char *mb_env = getenv("CHORED_BENCH_BACKUP_MB");
	const char *subs_env = getenv("CHORED_BENCH_BACKUP_SUBS");
	long mb = mb_env ? atol(mb_env) : 1024, subs = subs_env ? atol(subs_env) : 100000;
	if (mb < 1 || subs < 0) {
		fprintf(stderr, "bench_backup: bad CHORED_BENCH_BACKUP_MB or _SUBS\n");
		return 1;
	}
	/* /var/tmp: a GiB of database and dumps must not sit in a tmpfs. */
	char dir[] = "/var/tmp/chored-bench-backup.XXXXXX";
	if (!mkdtemp(dir)) {
		perror("bench_backup: mkdtemp");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	char cmd[8192], path[1024], path2[1024];
	int status = 1;
	pid_t kit = -1, s3 = -1;
	printf("bench_backup: %ld MiB SQLite database + %ld Kit subscribers, gzip, to the S3 "
	       "fake, %ld CPUs\n",
	       mb, subs, sysconf(_SC_NPROCESSORS_ONLN));
	fflush(stdout);

	/* The database: rows of ~175 bytes, half text that compresses, half random hex. */
	int64_t t0 = bench_now_ns();
	long rows = mb * 1048576L / 175;
	snprintf(path, sizeof path, "%s/make.sql", dir);
	FILE *sql = fopen(path, "w");
	if (!sql)
		goto out;
	fprintf(sql,
	        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;\n"
	        "CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT, who TEXT, payload TEXT, "
	        "amount REAL);\n"
	        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %ld)\n"
	        "INSERT INTO events SELECT i, CASE i %% 3 WHEN 0 THEN 'signup' WHEN 1 THEN 'order' "
	        "ELSE 'refund' END, 'customer' || (i %% 5000) || '@example.com', "
	        "'{\"items\":[\"sku-' || (i %% 97) || '\"],\"note\":\"' || hex(randomblob(48)) || "
	        "'\"}', i * 0.25 FROM n;\n",
	        rows);
	fclose(sql);
	snprintf(cmd, sizeof cmd, "sqlite3 %s/site.db <%s >/dev/null", dir, path);
	if (sh(cmd))
		goto out;
	snprintf(path, sizeof path, "%s/site.db", dir);
	uint64_t dbsize = file_size(path);
	printf("  database: %.1f MiB, %ld rows (made in %.1f s)\n", dbsize / 1048576.0, rows,
	       (bench_now_ns() - t0) / 1e9);
	fflush(stdout);

	snprintf(path, sizeof path, "%s/kit.port", dir);
	char nsubs[24];
	snprintf(nsubs, sizeof nsubs, "%ld", subs);
	char *kit_argv[] = {(char *)python(),
	                    BENCH_TOP_SRCDIR "/tests/fakes/kit_fake.py",
	                    path,
	                    "--api-key",
	                    KITKEY,
	                    "--subscribers",
	                    nsubs,
	                    "--tags",
	                    "0",
	                    "--rate-limit",
	                    "100000",
	                    NULL};
	kit = spawn(kit_argv, NULL, NULL, NULL);
	snprintf(path2, sizeof path2, "%s/s3.port", dir);
	char data[1100];
	snprintf(data, sizeof data, "%s/s3", dir);
	char *s3_argv[] = {(char *)python(),
	                   BENCH_TOP_SRCDIR "/tests/fakes/s3_fake.py",
	                   path2,
	                   "--data",
	                   data,
	                   "--key",
	                   KEYID ":" SECRET,
	                   "--bucket",
	                   "bkt",
	                   NULL};
	s3 = spawn(s3_argv, NULL, NULL, NULL);
	int kport = kit > 0 ? wait_port(path) : 0, sport = s3 > 0 ? wait_port(path2) : 0;
	if (!kport || !sport) {
		fprintf(stderr, "bench_backup: the fakes did not start\n");
		goto out;
	}

	/* backup.so through chored-run, with its peak RSS. */
	snprintf(path, sizeof path, "%s/in.json", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		goto out;
	fprintf(f,
	        "{\"plugin\":\"%s/plugins/stage/backup.so\",\"job\":\"bench\",\"run_id\":\"b\","
	        "\"nominal\":1795000000,\"options\":{\"database\":\"sqlite://%s/site.db\","
	        "\"kit_api_key\":\"%s\",\"kit_base_url\":\"http://127.0.0.1:%d\","
	        "\"store\":\"s3://bkt/plugin?endpoint=http://127.0.0.1:%d&region=auto\","
	        "\"store_key_id\":\"%s\",\"store_secret\":\"%s\",\"compress\":\"gzip\","
	        "\"restore_target\":\"sqlite://%s/restore.db\"},\"redact\":[\"%s\",\"%s\"],"
	        "\"state_dir\":\"%s\"}",
	        BENCH_TOP_BUILDDIR, dir, KITKEY, kport, sport, KEYID, SECRET, dir, KITKEY, SECRET,
	        dir);
	fclose(f);
	snprintf(path2, sizeof path2, "%s/fd3", dir);
	char runout[1100];
	snprintf(runout, sizeof runout, "%s/run.out", dir);
	setenv("TMPDIR", dir, 1);
	char *run_argv[] = {BENCH_TOP_BUILDDIR "/daemon/chored-run-uninstalled", NULL};
	t0 = bench_now_ns();
	pid_t runner = spawn(run_argv, path, runout, path2);
	int ws = 0;
	struct rusage ru;
	if (runner < 0 || wait4(runner, &ws, 0, &ru) < 0)
		goto out;
	double plugin_s = (bench_now_ns() - t0) / 1e9;
	snprintf(cmd, sizeof cmd, "grep -q '\"t\":\"result\",\"status\":\"ok\"' %s", path2);
	if (!WIFEXITED(ws) || sh(cmd)) {
		snprintf(cmd, sizeof cmd, "tail -n 3 %s >&2", path2);
		sh(cmd);
		fprintf(stderr, "bench_backup: the backup run failed\n");
		goto out;
	}
	snprintf(cmd, sizeof cmd,
	         "sed -n 's/.*\"t\":\"result\",\"status\":\"ok\",\"summary\":\"\\([^\"]*\\)\".*/"
	         "\\1/p' %s | sed 's/^/  plugin: /'",
	         path2);
	sh(cmd);

	/* The same with the usual tools. */
	snprintf(cmd, sizeof cmd,
	         "cd %s; printf 'user = \"%s:%s\"\\n' >curl.conf; "
	         "up() { curl -sf -o /dev/null -K curl.conf --aws-sigv4 aws:amz:auto:s3 "
	         "-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -T \"$1\" "
	         "http://127.0.0.1:%d/bkt/ref/$1; }; "
	         "sqlite3 site.db '.backup copy.db'; gzip -c copy.db >copy.db.gz; up copy.db.gz; "
	         "c=; : >subs.json; while :; do "
	         "curl -sf -H 'X-Kit-Api-Key: %s' "
	         "\"http://127.0.0.1:%d/v4/subscribers?status=all&sort_field=id&sort_order=asc&"
	         "per_page=1000${c:+&after=$c}\" >page.json; cat page.json >>subs.json; "
	         "c=$(jq -r 'if .pagination.has_next_page then .pagination.end_cursor|@uri else "
	         "\"\" end' page.json); [ -n \"$c\" ] || break; done; "
	         "gzip -c subs.json >subs.json.gz; up subs.json.gz",
	         dir, KEYID, SECRET, sport, KITKEY, kport);
	t0 = bench_now_ns();
	if (sh(cmd))
		goto out;
	double ref_s = (bench_now_ns() - t0) / 1e9;
	printf("  backup.so (chored-run)            %8.2f s   peak RSS %6.1f MB (target <= 64)\n",
	       plugin_s, ru.ru_maxrss / 1024.0);
	printf("  sqlite3 .backup + gzip + curl     %8.2f s   (Kit walked with curl + jq)\n",
	       ref_s);
	printf("  time plugin/tools                 %8.2f\n", plugin_s / ref_s);
	status = ru.ru_maxrss <= 64 * 1024 ? 0 : 1;
	if (status)
		printf("  peak RSS above 64 MB\n");
out:
	if (kit > 0)
		kill(kit, SIGTERM);
	if (s3 > 0)
		kill(s3, SIGTERM);
	if (kit > 0)
		waitpid(kit, NULL, 0);
	if (s3 > 0)
		waitpid(s3, NULL, 0);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	sh(cmd);
	return status;
}
