/* backup.so's pure parts: the record counters over streamed text (plugins/backup/scan.c)
 * fed in every possible chunking, and the codecs (plugins/backup/codec.c) round trip with
 * their sha256, truncation and corruption. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"

static const char dump[] =
    "-- portable dump of a database: it's here\n"
    "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n"
    "CREATE TABLE \"a\"\"b\" (x TEXT);\n"
    "INSERT INTO \"a\"\"b\" VALUES('it''s; INSERT INTO \"z\" VALUES(1);');\n"
    "INSERT INTO \"a\"\"b\" VALUES('-- no comment\n; still a string');\n"
    "CREATE TABLE t (y INT);\n"
    "INSERT INTO t VALUES(1);\nINSERT INTO t VALUES(-2);\n  insert into t values(3);\n"
    "INSERT INTO \"sqlite_sequence\" VALUES('t',3);\n"
    "INSERT INTO \"a\"\"b\" VALUES(X'00ff');\n"
    "COMMIT;\n";

static void check_sql(struct bk_sql_scan *s)
{
	assert_int_equal(s->rows, 6);
	assert_int_equal(bk_sql_scan_rows(s, "a\"b"), 3);
	assert_int_equal(bk_sql_scan_rows(s, "t"), 3);
	assert_int_equal(bk_sql_scan_rows(s, "z"), 0);
	assert_int_equal(bk_sql_scan_rows(s, "sqlite_sequence"), 0);
	assert_int_equal(s->n_tables, 2);
}

static void sql_every_split(void **state)
{
	(void)state;
	size_t n = strlen(dump);
	for (size_t cut = 0; cut <= n; cut++) {
		struct bk_sql_scan s;
		bk_sql_scan_init(&s);
		bk_sql_scan_feed(&s, dump, cut);
		bk_sql_scan_feed(&s, dump + cut, n - cut);
		check_sql(&s);
		bk_sql_scan_free(&s);
	}
	struct bk_sql_scan s; /* one byte at a time */
	bk_sql_scan_init(&s);
	for (size_t i = 0; i < n; i++)
		bk_sql_scan_feed(&s, dump + i, 1);
	check_sql(&s);
	bk_sql_scan_free(&s);
}

static const char tags[] = "[\n{\"id\":5,\"name\":\"a]\\\"{\",\"subscribers\":[\n"
                           "{\"id\":1,\"fields\":{\"k\":\"}\"}},\n{\"id\":2}\n]},\n"
                           "{\"id\":6,\"subscribers\":[]}\n]\n";

static void json_every_split(void **state)
{
	(void)state;
	size_t n = strlen(tags);
	for (size_t cut = 0; cut <= n; cut++) {
		struct bk_json_scan s;
		bk_json_scan_init(&s);
		bk_json_scan_feed(&s, tags, cut);
		bk_json_scan_feed(&s, tags + cut, n - cut);
		assert_int_equal(bk_json_scan_end(&s), 0);
		assert_int_equal(s.records, 2);
		assert_int_equal(s.nested, 2);
	}
}

static void json_bad(void **state)
{
	(void)state;
	static const char *const bad[] = {"", "{}", "[{}", "[{}]]", "[{}] x", "[\"abc]", "]["};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct bk_json_scan s;
		bk_json_scan_init(&s);
		bk_json_scan_feed(&s, bad[i], strlen(bad[i]));
		assert_int_equal(bk_json_scan_end(&s), -1);
	}
}

struct sink {
	char buf[1 << 20];
	size_t n;
};

static int to_sink(const void *p, size_t len, void *data)
{
	struct sink *s = data;
	if (s->n + len > sizeof s->buf)
		return -1;
	memcpy(s->buf + s->n, p, len);
	s->n += len;
	return 0;
}

/* Encodes `text` with `c` into a file, reads it back through a decoder. */
static void round_trip(enum bk_compress c)
{
	char path[] = "/tmp/test_backup_scan.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	char err[256];
	struct bk_enc *e = bk_enc_open(c, path, err, sizeof err);
	assert_non_null(e);
	for (int i = 0; i < 200; i++)
		assert_int_equal(bk_enc_write(e, dump, strlen(dump)), 0);
	uint64_t size, raw;
	char sha[CHORED_SHA256_HEX_LEN];
	assert_int_equal(bk_enc_finish(e, &size, &raw, sha), 0);
	bk_enc_free(e);
	assert_int_equal(raw, 200 * strlen(dump));
	FILE *f = fopen(path, "rb");
	static char stored[1 << 20];
	size_t n = fread(stored, 1, sizeof stored, f);
	fclose(f);
	unlink(path);
	assert_int_equal(n, size);
	if (c != BK_NONE)
		assert_true(size < raw / 4);
	char want[CHORED_SHA256_HEX_LEN];
	chored_sha256_hex(stored, n, want);
	assert_string_equal(sha, want);

	static struct sink s;
	s.n = 0;
	struct bk_dec *d = bk_dec_new(c, to_sink, &s);
	for (size_t i = 0; i < n; i += 7) /* in small pieces */
		assert_int_equal(bk_dec_write(d, stored + i, n - i < 7 ? n - i : 7), 0);
	char got[CHORED_SHA256_HEX_LEN];
	uint64_t dsize, draw;
	assert_int_equal(bk_dec_finish(d, got, &dsize, &draw), 0);
	assert_string_equal(got, sha);
	assert_int_equal(draw, raw);
	assert_memory_equal(s.buf, dump, strlen(dump));
	bk_dec_free(d);

	if (c == BK_NONE)
		return;
	/* Truncated: the codec says so. Changed: the sha256 differs, and decoding fails. */
	d = bk_dec_new(c, NULL, NULL);
	assert_int_equal(bk_dec_write(d, stored, n - 5), 0);
	assert_int_equal(bk_dec_finish(d, got, &dsize, &draw), -1);
	assert_non_null(strstr(bk_dec_error(d), "truncated"));
	bk_dec_free(d);
	stored[n / 2] ^= 0x10;
	d = bk_dec_new(c, NULL, NULL);
	assert_int_equal(bk_dec_write(d, stored, n), 0);
	assert_int_equal(bk_dec_finish(d, got, &dsize, &draw), -1);
	assert_string_not_equal(got, sha);
	assert_int_equal(dsize, n); /* every stored byte hashed despite the error */
	bk_dec_free(d);
}

static void codec_gzip(void **state)
{
	(void)state;
	round_trip(BK_GZIP);
}

static void codec_zstd(void **state)
{
	(void)state;
	round_trip(BK_ZSTD);
}

static void codec_none(void **state)
{
	(void)state;
	round_trip(BK_NONE);
}

static void months(void **state)
{
	(void)state;
	char m[8];
	bk_month_of(1793502000 - 4 * 3600, m); /* 2026-10-31T23:00:00Z */
	assert_string_equal(m, "2026-10");
	bk_month_of(1793502000, m); /* 2026-11-01T03:00:00Z */
	assert_string_equal(m, "2026-11");
	assert_int_equal(bk_month_index("2026-11"), 2026 * 12 + 10);
	assert_int_equal(bk_month_index("2026-13"), -1);
	assert_int_equal(bk_month_index("2026-1"), -1);
	assert_int_equal(bk_month_index("x026-01"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sql_every_split), cmocka_unit_test(json_every_split),
	    cmocka_unit_test(json_bad),        cmocka_unit_test(codec_gzip),
	    cmocka_unit_test(codec_zstd),      cmocka_unit_test(codec_none),
	    cmocka_unit_test(months),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
