/* The Notion rendering of a report: block types in request form, rich text within 2000
 * characters cut at UTF-8 boundaries, long text in several blocks, tables of at most 100
 * rows, code languages from Notion's list. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chored/report.h"

static struct json_object *get(struct json_object *o, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && o;
	     k = strtok_r(NULL, ".", &save)) {
		struct json_object *next = NULL;
		if (json_object_is_type(o, json_type_array))
			next = json_object_array_get_idx(o, (size_t)atoi(k));
		else if (!json_object_object_get_ex(o, k, &next))
			next = NULL;
		o = next;
	}
	return o;
}

static const char *str(struct json_object *o, const char *path)
{
	struct json_object *v = get(o, path);
	return v ? json_object_get_string(v) : NULL;
}

/* UTF-16 units of a valid UTF-8 string. */
static size_t units(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p & 0xC0) != 0x80)
			n += *p >= 0xF0 ? 2 : 1;
	}
	return n;
}

static bool valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t l = *p < 0x80             ? 1
		           : (*p & 0xE0) == 0xC0 ? 2
		           : (*p & 0xF0) == 0xE0 ? 3
		           : (*p & 0xF8) == 0xF0 ? 4
		                                 : 0;
		if (!l)
			return false;
		for (size_t i = 1; i < l; i++)
			if ((p[i] & 0xC0) != 0x80)
				return false;
		p += l;
	}
	return true;
}

/* The concatenated text of a rich-text array, checking every item's limits on the way. */
static char *joined(struct json_object *rt)
{
	assert_true(json_object_is_type(rt, json_type_array));
	assert_true(json_object_array_length(rt) <= 100);
	size_t cap = 1;
	for (size_t i = 0; i < json_object_array_length(rt); i++)
		cap += strlen(str(json_object_array_get_idx(rt, i), "text.content"));
	char *out = calloc(1, cap);
	for (size_t i = 0; i < json_object_array_length(rt); i++) {
		struct json_object *it = json_object_array_get_idx(rt, i);
		assert_string_equal(str(it, "type"), "text");
		const char *c = str(it, "text.content");
		assert_true(valid_utf8(c));
		assert_true(units(c) <= 2000);
		strcat(out, c);
	}
	return out;
}

static void test_types(void **st)
{
	(void)st;
	struct chored_report *r = chored_report_new("Weekly");
	chored_report_set_status(r, CHORED_PARTIAL);
	chored_report_heading(r, 1, "H1");
	chored_report_heading(r, 2, "H2");
	chored_report_heading(r, 3, "H3");
	chored_report_paragraph(r, "3 new bookings");
	chored_report_list_begin(r, false);
	chored_report_list_item(r, "a");
	chored_report_list_end(r);
	chored_report_list_begin(r, true);
	chored_report_list_item(r, "b");
	chored_report_list_end(r);
	chored_report_table_begin(r, 2, (const char *[]){"Page", "Slots"});
	chored_report_table_row(r, (const char *[]){"brand-a", "12"});
	chored_report_table_end(r);
	chored_report_code(r, "json", "{\"dead\":[]}");
	chored_report_figure(r, "Subscribers", "12 345");
	struct json_object *b = chored_report_notion_blocks(r);
	assert_int_equal(json_object_array_length(b), 10);
	assert_string_equal(str(b, "0.type"), "callout");
	char *s = joined(get(b, "0.callout.rich_text"));
	assert_string_equal(s, "PARTIAL \xE2\x80\x94 Weekly");
	free(s);
	assert_string_equal(str(b, "0.callout.color"), "yellow_background");
	static const char *const types[] = {"callout",
	                                    "heading_1",
	                                    "heading_2",
	                                    "heading_3",
	                                    "paragraph",
	                                    "bulleted_list_item",
	                                    "numbered_list_item",
	                                    "table",
	                                    "code",
	                                    "callout"};
	for (size_t i = 0; i < 10; i++) {
		struct json_object *blk = json_object_array_get_idx(b, i);
		assert_string_equal(str(blk, "object"), "block");
		assert_string_equal(str(blk, "type"), types[i]);
	}
	assert_string_equal(str(b, "1.heading_1.rich_text.0.text.content"), "H1");
	assert_false(json_object_get_boolean(get(b, "1.heading_1.is_toggleable")));
	assert_string_equal(str(b, "4.paragraph.rich_text.0.text.content"), "3 new bookings");
	assert_int_equal(json_object_get_int(get(b, "7.table.table_width")), 2);
	assert_true(json_object_get_boolean(get(b, "7.table.has_column_header")));
	assert_int_equal(json_object_array_length(get(b, "7.table.children")), 2);
	assert_string_equal(str(b, "7.table.children.0.type"), "table_row");
	assert_string_equal(str(b, "7.table.children.1.table_row.cells.0.0.text.content"),
	                    "brand-a");
	assert_string_equal(str(b, "7.table.children.1.table_row.cells.1.0.text.content"), "12");
	assert_string_equal(str(b, "8.code.language"), "json");
	assert_string_equal(str(b, "8.code.rich_text.0.text.content"), "{\"dead\":[]}");
	s = joined(get(b, "9.callout.rich_text"));
	assert_string_equal(s, "Subscribers: 12 345");
	free(s);
	assert_true(json_object_get_boolean(get(b, "9.callout.rich_text.0.annotations.bold")));
	json_object_put(b);
	chored_report_free(r);
}

static void test_empty(void **st)
{
	(void)st;
	struct chored_report *r = chored_report_new("");
	chored_report_paragraph(r, "%s", "");
	struct json_object *b = chored_report_notion_blocks(r);
	assert_int_equal(json_object_array_length(b), 2);
	assert_string_equal(str(b, "0.callout.color"), "green_background");
	/* An empty paragraph is an empty rich-text array, never an empty content item. */
	assert_int_equal(json_object_array_length(get(b, "1.paragraph.rich_text")), 0);
	json_object_put(b);
	chored_report_free(r);
}

/* Text of `n` ASCII letters followed by `tail`. */
static char *text_of(size_t n, const char *tail)
{
	char *s = malloc(n + strlen(tail) + 1);
	memset(s, 'a', n);
	strcpy(s + n, tail);
	return s;
}

static void test_split_boundary(void **st)
{
	(void)st;
	/* 1999 ASCII then a 2-byte é: it fits as the 2000th unit. Then 1999 ASCII then 😀
	 * (4 bytes, 2 UTF-16 units): it cannot fit, the first item stops before it. Then a 3-byte
	 * € straddling 2000 bytes but not 2000 characters. */
	char *a = text_of(1999, "\xC3\xA9"
	                        "bc");
	char *b = text_of(1999, "\xF0\x9F\x98\x80"
	                        "z");
	char *c = text_of(1998, "\xE2\x82\xAC\xE2\x82\xAC"
	                        "q");
	struct chored_report *r = chored_report_new("S");
	chored_report_paragraph(r, "%s", a);
	chored_report_code(r, NULL, b);
	chored_report_list_item(r, "%s", c);
	struct json_object *bl = chored_report_notion_blocks(r);
	const char *p0 = str(bl, "1.paragraph.rich_text.0.text.content");
	assert_int_equal(strlen(p0), 2001);
	assert_memory_equal(p0 + 1999, "\xC3\xA9", 2);
	assert_string_equal(str(bl, "1.paragraph.rich_text.1.text.content"), "bc");
	const char *c0 = str(bl, "2.code.rich_text.0.text.content");
	assert_int_equal(strlen(c0), 1999);
	assert_string_equal(str(bl, "2.code.rich_text.1.text.content"), "\xF0\x9F\x98\x80z");
	assert_string_equal(str(bl, "2.code.language"), "plain text");
	const char *l0 = str(bl, "3.bulleted_list_item.rich_text.0.text.content");
	assert_int_equal(units(l0), 2000);
	assert_true(valid_utf8(l0));
	char *all = joined(get(bl, "3.bulleted_list_item.rich_text"));
	assert_string_equal(all, c);
	free(all);
	json_object_put(bl);
	chored_report_free(r);
	free(a);
	free(b);
	free(c);
}

static void test_long_text(void **st)
{
	(void)st;
	/* 150 000 characters (some of them 3-byte): several paragraph blocks, each within the
	 * limits, together the whole text in order. */
	size_t n = 150000;
	char *s = malloc(n * 3 + 1), *p = s;
	for (size_t i = 0; i < n; i++) {
		if (i % 7 == 0) {
			memcpy(p, "\xE2\x82\xAC", 3);
			p += 3;
		} else {
			*p++ = (char)('a' + i % 26);
		}
	}
	*p = '\0';
	struct chored_report *r = chored_report_new("L");
	chored_report_paragraph(r, "%s", s);
	struct json_object *bl = chored_report_notion_blocks(r);
	size_t nb = json_object_array_length(bl);
	assert_true(nb >= 1 + 4);
	size_t cap = strlen(s) + 1;
	char *all = calloc(1, cap);
	for (size_t i = 1; i < nb; i++) {
		struct json_object *blk = json_object_array_get_idx(bl, i);
		assert_string_equal(str(blk, "type"), "paragraph");
		assert_true(json_object_array_length(get(blk, "paragraph.rich_text")) <= 100);
		assert_true(strlen(json_object_to_json_string(blk)) < 500 * 1000);
		char *t = joined(get(blk, "paragraph.rich_text"));
		strcat(all, t);
		free(t);
	}
	assert_string_equal(all, s);
	free(all);
	free(s);
	json_object_put(bl);
	chored_report_free(r);
}

static void test_big_table(void **st)
{
	(void)st;
	struct chored_report *r = chored_report_new("T");
	chored_report_table_begin(r, 3, (const char *[]){"a", "b|c", "d"});
	char cell[32];
	for (int i = 0; i < 250; i++) {
		snprintf(cell, sizeof cell, "row %d", i);
		chored_report_table_row(r, (const char *[]){cell, "x", ""});
	}
	char *longcell = text_of(5000, "");
	chored_report_table_row(r, (const char *[]){longcell, "y", "z"});
	chored_report_table_end(r);
	struct json_object *bl = chored_report_notion_blocks(r);
	/* 251 data rows: 99 + 99 + 53, each table with the header first. */
	assert_int_equal(json_object_array_length(bl), 1 + 3);
	size_t want[] = {100, 100, 54};
	int next = 0;
	for (size_t t = 0; t < 3; t++) {
		struct json_object *rows =
		    get(json_object_array_get_idx(bl, t + 1), "table.children");
		assert_int_equal(json_object_array_length(rows), want[t]);
		assert_string_equal(str(rows, "0.table_row.cells.1.0.text.content"), "b|c");
		for (size_t i = 1; i < json_object_array_length(rows); i++) {
			struct json_object *cells =
			    get(json_object_array_get_idx(rows, i), "table_row.cells");
			assert_int_equal(json_object_array_length(cells), 3);
			if (next < 250) {
				snprintf(cell, sizeof cell, "row %d", next);
				assert_string_equal(str(cells, "0.0.text.content"), cell);
				/* An empty cell is an empty rich-text array. */
				assert_int_equal(json_object_array_length(get(cells, "2")), 0);
			}
			next++;
		}
	}
	assert_int_equal(next, 251);
	/* A long cell is cut at 2000 characters, the cut marked by an ellipsis. */
	struct json_object *last = get(bl, "3.table.children.53.table_row.cells.0");
	char *c = joined(last);
	assert_int_equal(units(c), 2000);
	assert_string_equal(c + 1999, "\xE2\x80\xA6");
	free(c);
	free(longcell);
	json_object_put(bl);
	chored_report_free(r);
}

static void test_wide_table(void **st)
{
	(void)st;
	/* 99 rows of three 1999-character cells of quotes (each escaped as \" in JSON): far
	 * beyond 500 KB as one table, so it is split by size, every part within the payload
	 * limit and the rows all there, in order. */
	char *q = malloc(2000);
	memset(q, '"', 1999);
	q[1999] = '\0';
	struct chored_report *r = chored_report_new("W");
	chored_report_table_begin(r, 3, (const char *[]){"a", "b", "c"});
	char first[16];
	for (int i = 0; i < 99; i++) {
		snprintf(first, sizeof first, "%d", i);
		chored_report_table_row(r, (const char *[]){first, q, q});
		chored_report_table_row(r, (const char *[]){q, q, q});
	}
	chored_report_table_end(r);
	struct json_object *bl = chored_report_notion_blocks(r);
	size_t n = json_object_array_length(bl), rows = 0;
	assert_true(n > 2);
	int next = 0;
	for (size_t i = 1; i < n; i++) {
		struct json_object *t = json_object_array_get_idx(bl, i);
		assert_true(strlen(json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN)) <
		            490 * 1000);
		struct json_object *ch = get(t, "table.children");
		assert_string_equal(str(ch, "0.table_row.cells.0.0.text.content"), "a");
		for (size_t j = 1; j < json_object_array_length(ch); j++, rows++) {
			if (rows % 2 == 0) {
				snprintf(first, sizeof first, "%d", next++);
				assert_string_equal(str(json_object_array_get_idx(ch, j),
				                        "table_row.cells.0.0.text.content"),
				                    first);
			}
		}
	}
	assert_int_equal(rows, 198);
	json_object_put(bl);
	chored_report_free(r);
	free(q);
}

static void test_languages(void **st)
{
	(void)st;
	static const char *const cases[][2] = {
	    {"json", "json"},
	    {"JSON", "json"},
	    {"sh", "shell"},
	    {"C", "c"},
	    {"cpp", "c++"},
	    {"Plain Text", "plain text"},
	    {"brainfuck", "plain text"},
	    {"yml", "yaml"},
	    {"python", "python"},
	};
	struct chored_report *r = chored_report_new("C");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		chored_report_code(r, cases[i][0], "x");
	chored_report_code(r, NULL, "x");
	chored_report_code(r, "", "x");
	struct json_object *bl = chored_report_notion_blocks(r);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_string_equal(str(json_object_array_get_idx(bl, i + 1), "code.language"),
		                    cases[i][1]);
	size_t n = json_object_array_length(bl);
	assert_string_equal(str(json_object_array_get_idx(bl, n - 2), "code.language"),
	                    "plain text");
	assert_string_equal(str(json_object_array_get_idx(bl, n - 1), "code.language"),
	                    "plain text");
	json_object_put(bl);
	chored_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_types),          cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_split_boundary), cmocka_unit_test(test_long_text),
	    cmocka_unit_test(test_big_table),      cmocka_unit_test(test_wide_table),
	    cmocka_unit_test(test_languages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
