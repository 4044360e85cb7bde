/* The store service's pure parts: RFC 3986 encoding, the SigV4 canonical query that
 * libcurl 7.88 signs verbatim, digests, and the S3 XML answers (sdk/store_util.c,
 * sdk/store_xml.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chored/crypto.h"
#include "store_impl.h"

static void check_encode(const char *in, bool slash, const char *want)
{
	char *got = store_uri_encode(in, slash);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_uri_encode(void **s)
{
	(void)s;
	check_encode("backups/kit/2025-03.sql.gz", true, "backups/kit/2025-03.sql.gz");
	check_encode("backups/kit/", false, "backups%2Fkit%2F");
	check_encode("a b+c&d=e~_.-", true, "a%20b%2Bc%26d%3De~_.-");
	check_encode("\xc3\xa9*", true, "%C3%A9%2A"); /* uppercase hex, UTF-8 bytes */
	check_encode("", true, "");
}

static void test_uri_decode(void **s)
{
	(void)s;
	char *d = store_uri_decode("https%3A%2F%2Fh%3a1/x+y");
	assert_string_equal(d, "https://h:1/x+y"); /* '+' is not a space here */
	free(d);
	assert_null(store_uri_decode("bad%2"));
	assert_null(store_uri_decode("bad%zz"));
	assert_null(store_uri_decode("bad%g0"));
	assert_null(store_uri_decode("bad%"));
}

static void check_query(const char *const *pairs, const char *want)
{
	char *got = store_canonical_query(pairs);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_canonical_query(void **s)
{
	(void)s;
	const char *const none[] = {NULL};
	check_query(none, "");
	/* Valueless parameters get their '=' (curl 7.88 would sign "uploads"). */
	const char *const uploads[] = {"uploads", "", NULL};
	check_query(uploads, "uploads=");
	/* Sorted by name, values encoded with %2F and %20, never '+'. */
	const char *const list[] = {"prefix", "backups/kit 1/",     "list-type", "2", "max-keys",
	                            "1000",   "continuation-token", "a+b=",      NULL};
	check_query(list, "continuation-token=a%2Bb%3D&list-type=2&max-keys=1000&"
	                  "prefix=backups%2Fkit%201%2F");
	const char *const part[] = {"uploadId", "x~y", "partNumber", "10", NULL};
	check_query(part, "partNumber=10&uploadId=x~y");
}

static void test_digests(void **s)
{
	(void)s;
	char hex[CHORED_SHA256_HEX_LEN], b64[25];
	/* Bodies are hashed by the crypto service; requests without one carry this constant. */
	assert_int_equal(chored_sha256_hex("", 0, hex), CHORED_CRYPTO_OK);
	assert_string_equal(hex, STORE_EMPTY_SHA256);
	assert_int_equal(chored_sha256_hex("abc", 3, hex), CHORED_CRYPTO_OK);
	assert_string_equal(hex,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	store_md5_base64("", 0, b64);
	assert_string_equal(b64, "1B2M2Y8AsgTpgAmY7PhCfg==");
	store_md5_base64("abc", 3, b64);
	assert_string_equal(b64, "kAFQmDzST7DWlj99KOF/cg==");
}

static void test_parse_iso(void **s)
{
	(void)s;
	assert_int_equal(store_parse_iso("2025-03-01T10:00:00.000Z"), 1740823200);
	assert_int_equal(store_parse_iso("2025-03-01T10:00:00Z"), 1740823200);
	assert_int_equal(store_parse_iso("2025-03-01T10:00:00+00:00"), 1740823200);
	assert_int_equal(store_parse_iso("2025-03-01T10:00:00+02:00"), -1);
	assert_int_equal(store_parse_iso("yesterday"), -1);
}

#define XML(s) s, strlen(s)

static void test_xml_error(void **s)
{
	(void)s;
	struct store_err_xml e;
	assert_int_equal(store_xml_error(XML("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	                                     "<Error><Code>SignatureDoesNotMatch</Code><Message>"
	                                     "The request signature &amp; more</Message>"
	                                     "<StringToSign>x</StringToSign></Error>"),
	                                 &e),
	                 0);
	assert_string_equal(e.code, "SignatureDoesNotMatch");
	assert_string_equal(e.message, "The request signature & more");
	assert_int_equal(store_xml_error(XML("Internal Server Error"), &e), -1);
	assert_int_equal(store_xml_error(XML("<ListBucketResult/>"), &e), -1);
	assert_int_equal(store_xml_error(NULL, 0, &e), -1);
}

static void test_xml_upload_id(void **s)
{
	(void)s;
	char *id = store_xml_upload_id(
	    XML("<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	        "<Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE</UploadId>"
	        "</InitiateMultipartUploadResult>"));
	assert_string_equal(id, "VXBsb2FkIElE");
	free(id);
	assert_null(store_xml_upload_id(XML("<InitiateMultipartUploadResult><UploadId/>"
	                                    "</InitiateMultipartUploadResult>")));
	assert_null(store_xml_upload_id(XML("<Error><Code>AccessDenied</Code></Error>")));
}

static void test_xml_complete(void **s)
{
	(void)s;
	char etag[80];
	struct store_err_xml e;
	assert_int_equal(store_xml_complete(XML("<CompleteMultipartUploadResult><Bucket>b</Bucket>"
	                                        "<ETag>&quot;3858f62230ac3c915f300c664312c11f-9"
	                                        "&quot;</ETag></CompleteMultipartUploadResult>"),
	                                    etag, sizeof etag, &e),
	                 0);
	assert_string_equal(etag, "3858f62230ac3c915f300c664312c11f-9");
	/* AWS may answer 200 with an <Error> body. */
	assert_int_equal(store_xml_complete(XML("<Error><Code>InternalError</Code><Message>We "
	                                        "encountered an internal error.</Message></Error>"),
	                                    etag, sizeof etag, &e),
	                 -1);
	assert_string_equal(e.code, "InternalError");
}

static void test_xml_list(void **s)
{
	(void)s;
	struct store_list_page p;
	assert_int_equal(
	    store_xml_list(
	        XML("<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	            "<Name>b</Name><Prefix>a/</Prefix><KeyCount>2</KeyCount>"
	            "<IsTruncated>true</IsTruncated><NextContinuationToken>tok/1=</"
	            "NextContinuationToken>"
	            "<Contents><Key>a/x &amp; y</Key><LastModified>2025-03-01T10:00:00.000Z"
	            "</LastModified><ETag>&quot;abc&quot;</ETag><Size>12</Size></Contents>"
	            "<Contents><Key>a/z</Key><LastModified>2025-03-01T10:00:01.000Z"
	            "</LastModified><ETag>\"def-2\"</ETag><Size>10737418240</Size></Contents>"
	            "</ListBucketResult>"),
	        &p),
	    0);
	assert_true(p.truncated);
	assert_string_equal(p.next_token, "tok/1=");
	assert_int_equal(p.count, 2);
	assert_string_equal(p.items[0].key, "a/x & y");
	assert_string_equal(p.items[0].etag, "abc");
	assert_int_equal(p.items[0].size, 12);
	assert_int_equal(p.items[0].mtime, 1740823200);
	assert_string_equal(p.items[1].etag, "def-2");
	assert_true(p.items[1].size == UINT64_C(10737418240));
	store_list_page_free(&p);

	assert_int_equal(store_xml_list(XML("<ListBucketResult><IsTruncated>false</IsTruncated>"
	                                    "</ListBucketResult>"),
	                                &p),
	                 0);
	assert_false(p.truncated);
	assert_int_equal(p.count, 0);
	store_list_page_free(&p);
	/* Truncated without a token, a size that is not a number, a cut answer: refused. */
	assert_int_equal(store_xml_list(XML("<ListBucketResult><IsTruncated>true</IsTruncated>"
	                                    "</ListBucketResult>"),
	                                &p),
	                 -1);
	assert_int_equal(store_xml_list(XML("<ListBucketResult><Contents><Key>k</Key><Size>1x"
	                                    "</Size><LastModified>2025-03-01T10:00:00Z"
	                                    "</LastModified></Contents></ListBucketResult>"),
	                                &p),
	                 -1);
	assert_int_equal(store_xml_list(XML("<ListBucketResult><Contents><Key>trunc"), &p), -1);
}

static int n_failed;
static char last_failed[128];

static void on_failed(const char *key, const char *code, const char *message, void *data)
{
	(void)data;
	n_failed++;
	snprintf(last_failed, sizeof last_failed, "%s|%s|%s", key, code, message);
}

static void test_xml_delete(void **s)
{
	(void)s;
	n_failed = 0;
	assert_int_equal(store_xml_delete_result(
	                     XML("<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b</Key>"
	                         "<Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
	                         "</DeleteResult>"),
	                     on_failed, NULL),
	                 1);
	assert_int_equal(n_failed, 1);
	assert_string_equal(last_failed, "b|AccessDenied|Access Denied");
	assert_int_equal(store_xml_delete_result(XML("<DeleteResult/>"), on_failed, NULL), 0);
	assert_int_equal(
	    store_xml_delete_result(XML("<Error><Code>X</Code></Error>"), on_failed, NULL), -1);
}

static void test_buf_xml(void **s)
{
	(void)s;
	struct store_buf b = {0};
	assert_int_equal(store_buf_add_xml(&b, "<a & \"b\" 'c'>"), 0);
	assert_string_equal(b.s, "&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;");
	free(b.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uri_encode),      cmocka_unit_test(test_uri_decode),
	    cmocka_unit_test(test_canonical_query), cmocka_unit_test(test_digests),
	    cmocka_unit_test(test_parse_iso),       cmocka_unit_test(test_xml_error),
	    cmocka_unit_test(test_xml_upload_id),   cmocka_unit_test(test_xml_complete),
	    cmocka_unit_test(test_xml_list),        cmocka_unit_test(test_xml_delete),
	    cmocka_unit_test(test_buf_xml),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
