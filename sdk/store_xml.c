/* S3 XML answers (libxml2): errors, multipart results, listings, delete results.
 * Elements are matched by local name: S3 puts them in its 2006-03-01 namespace, R2 and
 * other implementations sometimes do not. */
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "store_impl.h"

static xmlDocPtr parse(const char *body, size_t len)
{
	if (!body || len == 0 || len > INT32_MAX)
		return NULL;
	return xmlReadMemory(body, (int)len, "s3.xml", NULL,
	                     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

static bool named(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next)
		if (named(n, name))
			return n;
	return NULL;
}

/* The text of child `name` of `parent`: malloc'd ("" when empty), NULL when absent. */
static char *child_text(xmlNodePtr parent, const char *name)
{
	xmlNodePtr n = child(parent, name);
	if (!n)
		return NULL;
	xmlChar *t = xmlNodeGetContent(n);
	char *out = strdup(t ? (const char *)t : "");
	xmlFree(t);
	return out;
}

static void copy_text(xmlNodePtr parent, const char *name, char *dst, size_t cap)
{
	char *t = child_text(parent, name);
	snprintf(dst, cap, "%s", t ? t : "");
	free(t);
}

/* Copies `etag` without its surrounding quotes (S3 quotes ETags, &quot; in XML). */
static void unquote(const char *etag, char *dst, size_t cap)
{
	size_t n = strlen(etag);
	if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"') {
		etag++;
		n -= 2;
	}
	snprintf(dst, cap, "%.*s", (int)n, etag);
}

static int error_from(xmlNodePtr root, struct store_err_xml *out)
{
	if (!named(root, "Error"))
		return -1;
	copy_text(root, "Code", out->code, sizeof out->code);
	copy_text(root, "Message", out->message, sizeof out->message);
	return out->code[0] ? 0 : -1;
}

int store_xml_error(const char *body, size_t len, struct store_err_xml *out)
{
	xmlDocPtr doc = parse(body, len);
	memset(out, 0, sizeof *out);
	int rc = doc ? error_from(xmlDocGetRootElement(doc), out) : -1;
	xmlFreeDoc(doc);
	return rc;
}

char *store_xml_upload_id(const char *body, size_t len)
{
	xmlDocPtr doc = parse(body, len);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	char *id =
	    named(root, "InitiateMultipartUploadResult") ? child_text(root, "UploadId") : NULL;
	xmlFreeDoc(doc);
	if (id && !*id) {
		free(id);
		id = NULL;
	}
	return id;
}

int store_xml_complete(const char *body, size_t len, char *etag, size_t etaglen,
                       struct store_err_xml *err)
{
	xmlDocPtr doc = parse(body, len);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	int rc = -1;
	memset(err, 0, sizeof *err);
	if (named(root, "CompleteMultipartUploadResult")) {
		char *t = child_text(root, "ETag");
		if (t) {
			unquote(t, etag, etaglen);
			rc = 0;
		}
		free(t);
	} else if (root) {
		error_from(root, err);
	}
	xmlFreeDoc(doc);
	return rc;
}

void store_list_page_free(struct store_list_page *page)
{
	for (size_t i = 0; i < page->count; i++) {
		free(page->items[i].key);
		free(page->items[i].etag);
	}
	free(page->items);
	free(page->next_token);
	memset(page, 0, sizeof *page);
}

static int list_item(xmlNodePtr c, struct store_list_item *it)
{
	char *size = child_text(c, "Size"), *mod = child_text(c, "LastModified"), *end = NULL;
	char *etag = child_text(c, "ETag");
	int rc = -1;
	it->key = child_text(c, "Key");
	if (!it->key || !size || !*size)
		goto out;
	it->size = strtoull(size, &end, 10);
	if (*end)
		goto out;
	it->mtime = mod ? store_parse_iso(mod) : -1;
	if (it->mtime < 0)
		goto out;
	it->etag = malloc(strlen(etag ? etag : "") + 1);
	if (!it->etag)
		goto out;
	unquote(etag ? etag : "", it->etag, strlen(etag ? etag : "") + 1);
	rc = 0;
out:
	free(size);
	free(mod);
	free(etag);
	return rc;
}

int store_xml_list(const char *body, size_t len, struct store_list_page *page)
{
	xmlDocPtr doc = parse(body, len);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	int rc = -1;
	memset(page, 0, sizeof *page);
	if (!named(root, "ListBucketResult"))
		goto out;
	char *tr = child_text(root, "IsTruncated");
	page->truncated = tr && strcmp(tr, "true") == 0;
	free(tr);
	page->next_token = child_text(root, "NextContinuationToken");
	if (page->truncated && (!page->next_token || !*page->next_token))
		goto out;
	size_t n = 0;
	for (xmlNodePtr c = root->children; c; c = c->next)
		n += named(c, "Contents");
	page->items = calloc(n ? n : 1, sizeof *page->items);
	if (!page->items)
		goto out;
	for (xmlNodePtr c = root->children; c; c = c->next) {
		if (!named(c, "Contents"))
			continue;
		if (list_item(c, &page->items[page->count++]))
			goto out;
	}
	rc = 0;
out:
	xmlFreeDoc(doc);
	if (rc)
		store_list_page_free(page);
	return rc;
}

int store_xml_delete_result(const char *body, size_t len,
                            void (*failed)(const char *key, const char *code, const char *message,
                                           void *data),
                            void *data)
{
	xmlDocPtr doc = parse(body, len);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	int errors = -1;
	if (!named(root, "DeleteResult"))
		goto out;
	errors = 0;
	for (xmlNodePtr c = root->children; c; c = c->next) {
		if (!named(c, "Error"))
			continue;
		char *key = child_text(c, "Key"), *code = child_text(c, "Code");
		char *msg = child_text(c, "Message");
		errors++;
		if (failed)
			failed(key ? key : "", code ? code : "", msg ? msg : "", data);
		free(key);
		free(code);
		free(msg);
	}
out:
	xmlFreeDoc(doc);
	return errors;
}
