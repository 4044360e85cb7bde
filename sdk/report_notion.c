/* Notion rendering: block objects in request form (api-contracts §3.3) within Notion's
 * limits (§3.4). Rich-text items hold at most 2000 characters, counted as UTF-16 units
 * (the conservative reading) and cut at code-point boundaries; a block's rich-text array
 * stays far below 100 items and its JSON far below the 500 KB payload limit: longer text
 * continues in a following block of the same type. Tables keep at most 100 rows (the header
 * repeated in each part) and cells are cut at TABLE_CELL_UNITS. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report_impl.h"

enum {
	RT_UNITS = 2000,          /* one rich-text item */
	BLOCK_UNITS = 20 * 2000,  /* one block's text: 20 items, <= 240 KB even escaped */
	TABLE_CELL_UNITS = 2000,  /* one table cell: tables are not for long text */
	TABLE_ROWS = 100,         /* rows of one table block, the header included */
	TABLE_BYTES = 300 * 1000, /* JSON of one table block */
};

/* Appends text s[0..n) to the rich-text array `rt` in items of at most RT_UNITS. */
static void rt_add(struct json_object *rt, const char *s, size_t n, bool bold)
{
	while (n > 0) {
		size_t k = report_utf16_prefix(s, n, RT_UNITS);
		struct json_object *item = json_object_new_object();
		struct json_object *text = json_object_new_object();
		json_object_object_add(text, "content", json_object_new_string_len(s, (int)k));
		json_object_object_add(item, "type", json_object_new_string("text"));
		json_object_object_add(item, "text", text);
		if (bold) {
			struct json_object *ann = json_object_new_object();
			json_object_object_add(ann, "bold", json_object_new_boolean(1));
			json_object_object_add(item, "annotations", ann);
		}
		json_object_array_add(rt, item);
		s += k;
		n -= k;
	}
}

/* {"object":"block","type":TYPE,TYPE:{"rich_text":[…]}}; returns the inner object. */
static struct json_object *new_block(struct json_object *out, const char *type,
                                     struct json_object **rt)
{
	struct json_object *b = json_object_new_object();
	struct json_object *inner = json_object_new_object();
	json_object_object_add(b, "object", json_object_new_string("block"));
	json_object_object_add(b, "type", json_object_new_string(type));
	json_object_object_add(b, type, inner);
	if (rt) {
		*rt = json_object_new_array();
		json_object_object_add(inner, "rich_text", *rt);
	}
	json_object_array_add(out, b);
	return inner;
}

/* One or more blocks of `type` holding `text` (an empty text gives one empty block);
 * `extra` adds the type's other members to each. */
static void text_blocks(struct json_object *out, const char *type, const char *text,
                        void (*extra)(struct json_object *inner, const void *data),
                        const void *data)
{
	size_t n = strlen(text);
	do {
		size_t k = report_utf16_prefix(text, n, BLOCK_UNITS);
		struct json_object *rt;
		struct json_object *inner = new_block(out, type, &rt);
		rt_add(rt, text, k, false);
		if (extra)
			extra(inner, data);
		text += k;
		n -= k;
	} while (n > 0);
}

static void heading_extra(struct json_object *inner, const void *data)
{
	(void)data;
	json_object_object_add(inner, "is_toggleable", json_object_new_boolean(0));
}

/* Notion's code.language enum (https://developers.notion.com/reference/block#code). */
static const char *const languages[] = {
    "abap",         "arduino",      "bash",        "basic",      "c",          "clojure",
    "coffeescript", "c++",          "c#",          "css",        "dart",       "diff",
    "docker",       "elixir",       "elm",         "erlang",     "flow",       "fortran",
    "f#",           "gherkin",      "glsl",        "go",         "graphql",    "groovy",
    "haskell",      "html",         "java",        "javascript", "json",       "julia",
    "kotlin",       "latex",        "less",        "lisp",       "livescript", "lua",
    "makefile",     "markdown",     "markup",      "matlab",     "mermaid",    "nix",
    "objective-c",  "ocaml",        "pascal",      "perl",       "php",        "plain text",
    "powershell",   "prolog",       "protobuf",    "python",     "r",          "reason",
    "ruby",         "rust",         "sass",        "scala",      "scheme",     "scss",
    "shell",        "sql",          "swift",       "typescript", "vb.net",     "verilog",
    "vhdl",         "visual basic", "webassembly", "xml",        "yaml",       "java/c/c++/c#",
};

/* Common names that are not Notion's spelling. */
static const char *const aliases[][2] = {
    {"sh", "shell"},         {"zsh", "shell"},      {"console", "shell"},
    {"js", "javascript"},    {"ts", "typescript"},  {"py", "python"},
    {"yml", "yaml"},         {"cpp", "c++"},        {"cxx", "c++"},
    {"csharp", "c#"},        {"md", "markdown"},    {"dockerfile", "docker"},
    {"text", "plain text"},  {"txt", "plain text"}, {"plain", "plain text"},
    {"rb", "ruby"},          {"rs", "rust"},        {"golang", "go"},
    {"make", "makefile"},    {"tex", "latex"},      {"ps1", "powershell"},
    {"objc", "objective-c"}, {"kt", "kotlin"},      {"patch", "diff"},
};

static const char *notion_language(const char *lang)
{
	if (!lang)
		return "plain text";
	for (size_t i = 0; i < sizeof languages / sizeof languages[0]; i++)
		if (strcasecmp(lang, languages[i]) == 0)
			return languages[i];
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcasecmp(lang, aliases[i][0]) == 0)
			return aliases[i][1];
	return "plain text";
}

static void code_extra(struct json_object *inner, const void *data)
{
	json_object_object_add(inner, "language", json_object_new_string(data));
}

static struct json_object *table_row(const struct report_block *t, size_t r)
{
	struct json_object *row = json_object_new_object();
	struct json_object *inner = json_object_new_object();
	struct json_object *cells = json_object_new_array();
	json_object_object_add(row, "object", json_object_new_string("block"));
	json_object_object_add(row, "type", json_object_new_string("table_row"));
	json_object_object_add(row, "table_row", inner);
	json_object_object_add(inner, "cells", cells);
	for (size_t c = 0; c < t->ncols; c++) {
		const char *s = t->cells[r * t->ncols + c];
		size_t n = strlen(s);
		size_t k = report_utf16_prefix(s, n, TABLE_CELL_UNITS);
		struct json_object *rt = json_object_new_array();
		if (k < n) { /* cut: leave room for the ellipsis that says so */
			k = report_utf16_prefix(s, n, TABLE_CELL_UNITS - 1);
			rt_add(rt, s, k, false);
			rt_add(rt, "\xE2\x80\xA6", 3, false);
		} else {
			rt_add(rt, s, n, false);
		}
		json_object_array_add(cells, rt);
	}
	return row;
}

static struct json_object *table_block(struct json_object *out, const struct report_block *t)
{
	struct json_object *inner = new_block(out, "table", NULL);
	struct json_object *rows = json_object_new_array();
	json_object_object_add(inner, "table_width", json_object_new_int64((int64_t)t->ncols));
	json_object_object_add(inner, "has_column_header", json_object_new_boolean(1));
	json_object_object_add(inner, "has_row_header", json_object_new_boolean(0));
	json_object_object_add(inner, "children", rows);
	json_object_array_add(rows, table_row(t, 0));
	return rows;
}

/* Bytes of JSON a row takes, from its cells (serialising it would keep a copy of its text in
 * every object): escapes counted, a generous overhead per rich-text item. */
static size_t row_bytes(const struct report_block *t, size_t r)
{
	size_t n = 80;
	for (size_t c = 0; c < t->ncols; c++) {
		const unsigned char *s = (const unsigned char *)t->cells[r * t->ncols + c];
		size_t len = 0;
		for (; *s; s++)
			len += *s < 0x20 ? 6 : (*s == '"' || *s == '\\' || *s == '/') ? 2 : 1;
		n += 4 + len + 48 * (len / RT_UNITS + 2);
	}
	return n;
}

/* One table block per 100 rows (or TABLE_BYTES of JSON), each starting with the header. */
static void tables(struct json_object *out, const struct report_block *t)
{
	size_t nrows = t->ncells / t->ncols;
	struct json_object *rows = table_block(out, t);
	size_t header_bytes = row_bytes(t, 0);
	size_t bytes = header_bytes;
	for (size_t r = 1; r < nrows; r++) {
		size_t rb = row_bytes(t, r);
		if (json_object_array_length(rows) >= TABLE_ROWS || bytes + rb > TABLE_BYTES) {
			rows = table_block(out, t);
			bytes = header_bytes;
		}
		json_object_array_add(rows, table_row(t, r));
		bytes += rb;
	}
}

static void callout(struct json_object *out, const char *emoji, const char *color, const char *bold,
                    const char *rest)
{
	struct json_object *rt;
	struct json_object *inner = new_block(out, "callout", &rt);
	size_t nb = strlen(bold), nr = strlen(rest);
	nb = report_utf16_prefix(bold, nb, BLOCK_UNITS / 2);
	nr = report_utf16_prefix(rest, nr, BLOCK_UNITS / 2);
	rt_add(rt, bold, nb, true);
	rt_add(rt, rest, nr, false);
	struct json_object *icon = json_object_new_object();
	json_object_object_add(icon, "type", json_object_new_string("emoji"));
	json_object_object_add(icon, "emoji", json_object_new_string(emoji));
	json_object_object_add(inner, "icon", icon);
	json_object_object_add(inner, "color", json_object_new_string(color));
}

/* `prefix` + `s` as one new string, or NULL. */
static char *concat(const char *prefix, const char *s)
{
	size_t a = strlen(prefix), b = strlen(s);
	char *out = malloc(a + b + 1);
	if (out) {
		memcpy(out, prefix, a);
		memcpy(out + a, s, b + 1);
	}
	return out;
}

struct json_object *chored_report_notion_blocks(const struct chored_report *r)
{
	if (!r || r->oom)
		return NULL;
	struct json_object *out = json_object_new_array();
	if (!out)
		return NULL;
	static const char *const emoji[] = {"\xE2\x9C\x85", "\xE2\x9A\xA0\xEF\xB8\x8F",
	                                    "\xE2\x9D\x8C"};
	static const char *const color[] = {"green_background", "yellow_background",
	                                    "red_background"};
	static const char *const word[] = {"OK", "PARTIAL", "FAILED"};
	int s = r->status == CHORED_OK ? 0 : r->status == CHORED_PARTIAL ? 1 : 2;
	char *rest = concat(" \xE2\x80\x94 ", r->title);
	if (!rest) {
		json_object_put(out);
		return NULL;
	}
	callout(out, emoji[s], color[s], word[s], rest);
	free(rest);
	for (size_t i = 0; i < r->nblocks; i++) {
		const struct report_block *k = &r->blocks[i];
		switch (k->kind) {
		case REPORT_HEADING: {
			static const char *const type[] = {"heading_1", "heading_2", "heading_3"};
			text_blocks(out, type[k->level - 1], k->text, heading_extra, NULL);
			break;
		}
		case REPORT_PARAGRAPH:
			text_blocks(out, "paragraph", k->text, NULL, NULL);
			break;
		case REPORT_LIST:
			for (size_t j = 0; j < k->ncells; j++)
				text_blocks(
				    out, k->ordered ? "numbered_list_item" : "bulleted_list_item",
				    k->cells[j], NULL, NULL);
			break;
		case REPORT_TABLE:
			if (k->ncols)
				tables(out, k);
			break;
		case REPORT_CODE:
			text_blocks(out, "code", k->text, code_extra, notion_language(k->aux));
			break;
		case REPORT_FIGURE: {
			char *v = concat(": ", k->aux);
			if (!v) {
				json_object_put(out);
				return NULL;
			}
			callout(out, "\xF0\x9F\x93\x8A", "gray_background", k->text, v);
			free(v);
			break;
		}
		}
	}
	return out;
}
