/* The dashboard's routes (dashboard.h), answered before the /v1 API:
 *   GET /                the page, rendered here (readable without JavaScript)
 *   GET /runs/ID         a run's page with its log                       404 unknown run
 *   GET /dashboard.json  the model (dashboard_int.h): one poll refreshes every card
 *   GET /dashboard.js, /dashboard.css   the page's only assets, same origin
 * Every answer carries a strict Content-Security-Policy: no inline script or style, no
 * other origin, no framing. */
#include "chored-build.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_internal.h"
#include "dashboard.h"
#include "dashboard_int.h"
#include "strbuf.h"

#define CSP                                                                                        \
	"default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "            \
	"img-src 'self' data:; form-action 'self'; frame-ancestors 'none'"

/* Sends `len` bytes of `body` (borrowed) as `type`. Pages and data are never cached; the
 * assets are revalidated (their URLs carry the version anyway). */
static void send_reply(struct evhttp_request *req, int code, const char *type, const char *body,
                       size_t len, bool asset)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Content-Security-Policy", CSP);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Cache-Control", asset ? "no-cache" : "no-store");
	struct evbuffer *b = evbuffer_new();
	if (!b) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add(b, body, len);
	evhttp_send_reply(req, code, code == 200 ? "OK" : "Not Found", b);
	evbuffer_free(b);
}

static void send_html(struct evhttp_request *req, int code, struct strbuf *sb)
{
	send_reply(req, code, "text/html; charset=utf-8", strbuf_str(sb), sb->len, false);
	strbuf_free(sb);
}

/* "/runs/ID" with ID a decimal run id; 0 for anything else. */
static int64_t run_id_of(const char *tail)
{
	size_t n = strspn(tail, "0123456789");
	if (n == 0 || n > 18 || tail[n] != '\0')
		return 0;
	return strtoll(tail, NULL, 10);
}

static void run_page(struct api *api, struct evhttp_request *req, const char *tail)
{
	struct strbuf sb = STRBUF_INIT;
	int64_t id = run_id_of(tail);
	struct json_object *run = id > 0 ? api->ops->run(api->data, id) : NULL;
	if (!run) {
		dash_html_missing(&sb, "There is no such run.");
		send_html(req, 404, &sb);
		return;
	}
	dash_html_run(&sb, run);
	json_object_put(run);
	send_html(req, 200, &sb);
}

bool api_dashboard_route(struct api *api, struct evhttp_request *req, const char *path)
{
	if (!strcmp(path, "/")) {
		struct json_object *m = dash_model(api, time(NULL));
		struct strbuf sb = STRBUF_INIT;
		dash_html_page(&sb, m);
		json_object_put(m);
		send_html(req, 200, &sb);
	} else if (!strcmp(path, "/dashboard.json")) {
		struct json_object *m = dash_model(api, time(NULL));
		size_t len;
		const char *text = json_object_to_json_string_length(
		    m, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
		send_reply(req, 200, "application/json", text, len, false);
		json_object_put(m);
	} else if (!strcmp(path, "/dashboard.js")) {
		send_reply(req, 200, "text/javascript; charset=utf-8", dash_js, strlen(dash_js),
		           true);
	} else if (!strcmp(path, "/dashboard.css")) {
		send_reply(req, 200, "text/css; charset=utf-8", dash_css, strlen(dash_css), true);
	} else if (!strncmp(path, "/runs/", 6)) {
		run_page(api, req, path + 6);
	} else {
		return false;
	}
	return true;
}
