/* Report model and its text, HTML and Markdown renderings: structure, escaping, alignment
 * by display width, the empty report, misuse that must not lose or corrupt anything. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chored/report.h"

#define NASTY "<b>&\"'</b>"

/* Index of the line of `s` holding `needle` (0-based), or -1. */
static int line_of(const char *s, const char *needle)
{
	const char *p = strstr(s, needle);
	if (!p)
		return -1;
	int n = 0;
	for (const char *q = s; q < p; q++)
		n += *q == '\n';
	return n;
}

/* The `n`th line of s (0-based) into buf. */
static const char *line(const char *s, int n, char *buf, size_t len)
{
	for (; n > 0 && s; n--) {
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	if (!s)
		return "";
	size_t l = strcspn(s, "\n");
	snprintf(buf, len, "%.*s", (int)(l < len ? l : len - 1), s);
	return buf;
}

static struct chored_report *sample(void)
{
	struct chored_report *r = chored_report_new("Weekly report");
	chored_report_heading(r, 1, "Bookings");
	chored_report_paragraph(r, "%d new bookings", 3);
	chored_report_list_begin(r, false);
	chored_report_list_item(r, "brand A: %d slots", 12);
	chored_report_list_item(r, "brand B");
	chored_report_list_end(r);
	chored_report_list_begin(r, true);
	chored_report_list_item(r, "first");
	chored_report_list_item(r, "second");
	chored_report_list_end(r);
	const char *hdr[] = {"Page", "Slots"};
	chored_report_table_begin(r, 2, hdr);
	chored_report_table_row(r, (const char *[]){"brand-a", "12"});
	chored_report_table_row(r, (const char *[]){"brand-bb", "7"});
	chored_report_table_end(r);
	chored_report_code(r, "json", "{\"dead\":[]}\n[1]");
	chored_report_figure(r, "Subscribers", "12 345");
	chored_report_figure(r, "Dead links", "0");
	return r;
}

static void test_model(void **st)
{
	(void)st;
	struct chored_report *r = chored_report_new(NULL);
	assert_string_equal(chored_report_title(r), "");
	assert_int_equal(chored_report_status(r), CHORED_OK);
	chored_report_set_status(r, CHORED_PARTIAL);
	assert_int_equal(chored_report_status(r), CHORED_PARTIAL);
	chored_report_set_status(r, (enum chored_status)42);
	assert_int_equal(chored_report_status(r), CHORED_FAILED);
	chored_report_free(r);
	chored_report_free(NULL);
	/* Invalid UTF-8 is replaced on entry, so every rendering is valid UTF-8. */
	r = chored_report_new("bad \xff\xfe byte \xc3");
	assert_string_equal(chored_report_title(r),
	                    "bad \xEF\xBF\xBD\xEF\xBF\xBD byte \xEF\xBF\xBD");
	chored_report_free(r);
}

static void test_text(void **st)
{
	(void)st;
	struct chored_report *r = sample();
	char *t = chored_report_text(r);
	char b1[256], b2[256];
	assert_string_equal(line(t, 0, b1, sizeof b1), "Weekly report");
	assert_string_equal(line(t, 1, b1, sizeof b1), "=============");
	assert_string_equal(line(t, 2, b1, sizeof b1), "Status: ok");
	int h = line_of(t, "Bookings");
	assert_string_equal(line(t, h + 1, b1, sizeof b1), "========");
	assert_non_null(strstr(t, "\n3 new bookings\n"));
	assert_non_null(strstr(t, "\n- brand A: 12 slots\n- brand B\n"));
	assert_non_null(strstr(t, "\n1. first\n2. second\n"));
	assert_non_null(
	    strstr(t, "\nPage      Slots\n--------  -----\nbrand-a   12\nbrand-bb  7\n"));
	assert_non_null(strstr(t, "\n    {\"dead\":[]}\n    [1]\n"));
	assert_non_null(strstr(t, "\nSubscribers: 12 345\nDead links: 0\n"));
	(void)b2;
	free(t);
	chored_report_free(r);
}

static void test_text_width(void **st)
{
	(void)st;
	/* Columns align by display width: CJK and emoji take two columns, é and a combining
	 * accent one and zero, whatever their byte length. */
	struct chored_report *r = chored_report_new("W");
	chored_report_heading(r, 2, "日本");
	chored_report_table_begin(r, 3, (const char *[]){"name", "x", "end"});
	chored_report_table_row(r, (const char *[]){"日本語", "é", "|"});
	chored_report_table_row(r, (const char *[]){"e\xCC\x81t\xC3\xA9", "\xE2\x9C\x85", "|"});
	chored_report_table_row(r, (const char *[]){"ascii", "ab", "|"});
	chored_report_table_end(r);
	char *t = chored_report_text(r);
	assert_non_null(strstr(t, "日本\n----\n"));
	assert_non_null(strstr(t, "name    x   end\n"));
	assert_non_null(strstr(t, "------  --  ---\n"));
	assert_non_null(strstr(t, "日本語  é   |\n"));
	assert_non_null(strstr(t, "e\xCC\x81t\xC3\xA9     \xE2\x9C\x85  |\n"));
	assert_non_null(strstr(t, "ascii   ab  |\n"));
	free(t);
	chored_report_free(r);
}

static void test_text_wrap(void **st)
{
	(void)st;
	struct chored_report *r = chored_report_new("W");
	char para[400] = "";
	for (int i = 0; i < 30; i++)
		strcat(para, "word1234 ");
	chored_report_paragraph(r, "%s", para);
	chored_report_list_item(r, "%s", para); /* outside a list: starts a bulleted one */
	char *t = chored_report_text(r);
	for (const char *p = t; *p;) {
		size_t l = strcspn(p, "\n");
		assert_true(l <= 72);
		p += l + (p[l] ? 1 : 0);
	}
	assert_non_null(strstr(t, "\n- word1234 "));
	assert_non_null(strstr(t, "\n  word1234 ")); /* continuation under the item */
	free(t);
	chored_report_free(r);
}

static void test_html(void **st)
{
	(void)st;
	struct chored_report *r = chored_report_new("T " NASTY);
	chored_report_set_status(r, CHORED_FAILED);
	chored_report_heading(r, 2, NASTY);
	chored_report_paragraph(r, "p %s\nline2", NASTY);
	chored_report_list_begin(r, true);
	chored_report_list_item(r, "%s", NASTY);
	chored_report_list_end(r);
	chored_report_table_begin(r, 2, (const char *[]){"H" NASTY, "h2"});
	chored_report_table_row(r, (const char *[]){NASTY, NULL});
	chored_report_table_end(r);
	chored_report_code(r, NULL, "if (a < b && c > d) puts(\"x\");");
	chored_report_figure(r, NASTY, NASTY);
	char *h = chored_report_html(r);
	assert_true(strncmp(h, "<!DOCTYPE html>\n<html", 21) == 0);
	assert_non_null(strstr(h, "</body>\n</html>\n"));
	assert_null(strstr(h, NASTY));
	assert_null(strstr(h, "<b>"));
	assert_null(strstr(h, "<link"));
	assert_null(strstr(h, "<style"));
	assert_null(strstr(h, "src="));
	const char *e = "&lt;b&gt;&amp;&quot;&#39;&lt;/b&gt;";
	char want[128];
	snprintf(want, sizeof want, "<title>T %s</title>", e);
	assert_non_null(strstr(h, want));
	snprintf(want, sizeof want, "\">%s</h3>", e);
	assert_non_null(strstr(h, want));
	snprintf(want, sizeof want, "\">p %s<br>line2</p>", e);
	assert_non_null(strstr(h, want));
	snprintf(want, sizeof want, "<ol style=\"margin:0 0 12px;\">\n<li>%s</li>\n</ol>", e);
	assert_non_null(strstr(h, want));
	assert_non_null(strstr(h, "<thead><tr><th "));
	snprintf(want, sizeof want, "\">H%s</th>", e);
	assert_non_null(strstr(h, want));
	snprintf(want, sizeof want, "\">%s</td>", e);
	assert_non_null(strstr(h, want));
	assert_non_null(
	    strstr(h, "<code>if (a &lt; b &amp;&amp; c &gt; d) puts(&quot;x&quot;);</code>"));
	/* Status: colour and word. */
	assert_non_null(strstr(h, "background:#cf222e;"));
	assert_non_null(strstr(h, "FAILED</span>"));
	free(h);
	chored_report_set_status(r, CHORED_OK);
	h = chored_report_html(r);
	assert_non_null(strstr(h, "background:#1a7f37;"));
	assert_non_null(strstr(h, "OK</span>"));
	free(h);
	chored_report_free(r);
}

static void test_markdown(void **st)
{
	(void)st;
	struct chored_report *r = chored_report_new("R *bold* | x");
	chored_report_set_status(r, CHORED_PARTIAL);
	chored_report_heading(r, 1, "H #");
	chored_report_paragraph(r,
	                        "a|b `c` *d* _e_ [f](g) <h> # i\n# not a heading\n1. not a list");
	chored_report_list_begin(r, true);
	chored_report_list_item(r, "one");
	chored_report_list_item(r, "two\nmore");
	chored_report_list_end(r);
	chored_report_table_begin(r, 2, (const char *[]){"a|b", "c"});
	chored_report_table_row(r, (const char *[]){"x|y\nz", "`q`"});
	chored_report_table_end(r);
	chored_report_code(r, "sh", "echo ```` four\n``");
	chored_report_code(r, "bad lang", "plain");
	chored_report_figure(r, "Links", "12");
	char *m = chored_report_markdown(r);
	assert_non_null(strstr(m, "# R \\*bold\\* \\| x\n\n**Status:** "));
	assert_non_null(strstr(m, " partial\n"));
	assert_non_null(strstr(m, "\n## H \\#\n"));
	assert_non_null(strstr(m, "\na\\|b \\`c\\` \\*d\\* \\_e\\_ \\[f\\](g) \\<h\\> \\# i\\\n"
	                          "\\# not a heading\\\n1\\. not a list\n"));
	assert_non_null(strstr(m, "\n1. one\n2. two\\\n   more\n"));
	assert_non_null(strstr(m, "\n| a\\|b | c |\n| --- | --- |\n| x\\|y<br>z | \\`q\\` |\n"));
	/* The fence is longer than the longest backtick run inside (4). */
	assert_non_null(strstr(m, "\n`````sh\necho ```` four\n``\n`````\n"));
	assert_non_null(strstr(m, "\n```\nplain\n```\n"));
	assert_non_null(strstr(m, "\n**Links:** 12\n"));
	free(m);
	chored_report_free(r);
}

static void test_empty(void **st)
{
	(void)st;
	struct chored_report *r = chored_report_new("");
	char *t = chored_report_text(r);
	assert_string_equal(t, "\n=\nStatus: ok\n");
	char *m = chored_report_markdown(r);
	assert_string_equal(m, "# \n\n**Status:** \xE2\x9C\x85 ok\n");
	char *h = chored_report_html(r);
	assert_non_null(strstr(h, "<title></title>"));
	assert_non_null(strstr(h, "</html>\n"));
	free(t);
	free(m);
	free(h);
	chored_report_free(r);
}

static void test_misuse(void **st)
{
	(void)st;
	struct chored_report *r = chored_report_new("M");
	chored_report_table_row(r, (const char *[]){"lost"}); /* no table open */
	chored_report_table_begin(r, 0, NULL);                /* no columns: nothing shown */
	chored_report_table_row(r, (const char *[]){"lost too"});
	chored_report_table_begin(r, 2, NULL); /* NULL header: empty cells */
	chored_report_table_row(r, NULL);
	chored_report_paragraph(r, "after"); /* closes the table */
	chored_report_table_row(r, (const char *[]){"late", "row"});
	chored_report_heading(r, 9, "clamped");
	chored_report_list_end(r);
	char *t = chored_report_text(r);
	assert_null(strstr(t, "lost"));
	assert_null(strstr(t, "late"));
	assert_non_null(strstr(t, "\n-  -\n"));
	assert_non_null(strstr(t, "\nclamped\n~~~~~~~\n"));
	char *m = chored_report_markdown(r);
	assert_non_null(strstr(m, "\n|  |  |\n| --- | --- |\n|  |  |\n"));
	assert_non_null(strstr(m, "\n#### clamped\n"));
	free(t);
	free(m);
	chored_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_model),      cmocka_unit_test(test_text),
	    cmocka_unit_test(test_text_width), cmocka_unit_test(test_text_wrap),
	    cmocka_unit_test(test_html),       cmocka_unit_test(test_markdown),
	    cmocka_unit_test(test_empty),      cmocka_unit_test(test_misuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
