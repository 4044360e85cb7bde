/* URL and JSON helpers of the http service (sdk/http_json.c) through the public API. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "chored/http.h"

static void test_escape(void **state)
{
	(void)state;
	char *s = chored_http_escape("AZaz09-._~ /?&=+%é");
	assert_string_equal(s, "AZaz09-._~%20%2F%3F%26%3D%2B%25%C3%A9");
	free(s);
	s = chored_http_escape("");
	assert_string_equal(s, "");
	free(s);
}

static void test_add_query(void **state)
{
	(void)state;
	char *u = strdup("https://api.example.com/v4/subscribers");
	assert_int_equal(chored_http_url_add_query(&u, "per_page", "1000"), 0);
	assert_string_equal(u, "https://api.example.com/v4/subscribers?per_page=1000");
	assert_int_equal(chored_http_url_add_query(&u, "after", "WzE0N10="), 0);
	assert_string_equal(
	    u, "https://api.example.com/v4/subscribers?per_page=1000&after=WzE0N10%3D");
	free(u);
	u = strdup("http://h/p?");
	chored_http_url_add_query(&u, "a", "b c");
	assert_string_equal(u, "http://h/p?a=b%20c");
	free(u);
	u = strdup("http://h/p?x=1&");
	chored_http_url_add_query(&u, "a", "1");
	assert_string_equal(u, "http://h/p?x=1&a=1");
	free(u);
	u = strdup("http://h/p#frag");
	chored_http_url_add_query(&u, "q", "/");
	assert_string_equal(u, "http://h/p?q=%2F#frag");
	free(u);
}

static void test_json_path(void **state)
{
	(void)state;
	struct json_object *o = json_tokener_parse(
	    "{\"pagination\":{\"end_cursor\":\"WzE0N10=\",\"has_next_page\":true},"
	    "\"items\":[{\"id\":\"a\"},{\"id\":\"b\"}],\"a.b\":1}");
	assert_non_null(o);
	assert_string_equal(json_object_get_string(chored_json_path(o, "pagination.end_cursor")),
	                    "WzE0N10=");
	assert_true(json_object_get_boolean(chored_json_path(o, "pagination.has_next_page")));
	assert_string_equal(json_object_get_string(chored_json_path(o, "items.1.id")), "b");
	assert_ptr_equal(chored_json_path(o, ""), o);
	assert_null(chored_json_path(o, "items.2.id"));
	assert_null(chored_json_path(o, "items.x"));
	assert_null(chored_json_path(o, "items.-1"));
	assert_null(chored_json_path(o, "pagination.end_cursor.deeper"));
	assert_null(chored_json_path(o, "missing"));
	assert_null(chored_json_path(o, NULL));
	assert_null(chored_json_path(NULL, "a"));
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_add_query),
	    cmocka_unit_test(test_json_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
