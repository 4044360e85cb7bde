/* The admin HTTP listener ([daemon] listen): the API router on a TCP address, behind the
 * guard of api_auth.c. Every request passes api_admit first (Host, query, token, slow-down;
 * the order and answers are listed in api.h); the control socket skips it. */
#include "chored-build.h"

#include <arpa/inet.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "api_internal.h"
#include "strbuf.h"

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void api_log(struct api *api, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void api_log(struct api *api, int level, const char *fmt, ...)
{
	if (!api->ops->log)
		return;
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vappendf(&sb, fmt, ap);
	va_end(ap);
	api->ops->log(api->data, level, strbuf_str(&sb));
	strbuf_free(&sb);
}

static void unauthorized(struct evhttp_request *req, bool presented)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
	                  presented ? "Bearer realm=\"chored\", error=\"invalid_token\""
	                            : "Bearer realm=\"chored\"");
	if (presented)
		api_send_error(req, 401, "unauthorized", "the bearer token is not valid");
	else
		api_send_error(req, 401, "unauthorized",
		               "this request changes state: send Authorization: Bearer "
		               "<admin_token>");
}

/* The token check of a mutating request; answers and returns false when refused. */
static bool admit_mutation(struct api *api, struct evhttp_request *req)
{
	struct api_guard *g = api->guard;
	if (!g->has_token) {
		api_send_error(req, 403, "no_admin_token",
		               "no admin token is configured, so the admin HTTP API is read-only: "
		               "set [daemon] admin_token = ${secret:NAME} (the token in [secrets]) "
		               "and reload, or use chorectl over the control socket");
		return false;
	}
	char *peer = NULL;
	ev_uint16_t port = 0;
	evhttp_connection_get_peer(evhttp_request_get_connection(req), &peer, &port);
	char addr[64];
	api_guard_addr_key(peer, addr, sizeof addr);
	int64_t now = mono_ms();
	int64_t wait = api_guard_wait_ms(g, addr, now);
	if (wait > 0) {
		/* Not even looked at: a lock-out that still compared tokens would only slow
		 * the guesses that are wrong. */
		char secs[24];
		long long s = (wait + 999) / 1000;
		snprintf(secs, sizeof secs, "%lld", s);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", secs);
		api_send_error(req, 429, "too_many_attempts",
		               "too many bad tokens from this address; retry in %lld s", s);
		return false;
	}
	const char *auth =
	    evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	if (!auth) {
		unauthorized(req, false);
		return false;
	}
	size_t len = 0;
	const char *tok = api_bearer(auth, &len);
	char *copy = tok ? strndup(tok, len) : NULL;
	bool ok = copy && api_guard_token_ok(g, copy);
	if (copy) {
		explicit_bzero(copy, len);
		free(copy);
	}
	if (ok) {
		api_guard_succeeded(g, addr);
		return true;
	}
	int64_t lock = api_guard_failed(g, addr, now);
	if (lock > 0)
		api_log(api, 4,
		        "admin HTTP: repeated bad tokens from %s: its next attempts wait %lld s",
		        addr, (long long)(lock / 1000));
	else
		api_log(api, 5, "admin HTTP: bad token from %s", addr);
	unauthorized(req, true);
	return false;
}

bool api_admit(struct api *api, struct evhttp_request *req)
{
	struct api_guard *g = api->guard;
	const char *host = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
	if (!api_guard_host_ok(g, host)) {
		api_send_error(req, 421, "bad_host",
		               "the Host header names no address of this server (DNS rebinding "
		               "guard): use an IP address or localhost%s%s",
		               g->loopback ? "" : ", or ", g->loopback ? "" : g->hostname);
		return false;
	}
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	if (uri && api_guard_query_has_token(g, evhttp_uri_get_query(uri))) {
		api_send_error(req, 400, "token_in_query",
		               "credentials are refused in the query string (URLs end up in "
		               "logs and histories): send Authorization: Bearer <admin_token>");
		return false;
	}
	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET)
		return true;
	return admit_mutation(api, req);
}

/* True when the socket is bound to 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104. */
static bool bound_loopback(evutil_socket_t fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return false;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss.ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)&ss)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

unsigned api_tcp_port(const struct api *api)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (!api->guard || api->tcp_fd < 0 ||
	    getsockname(api->tcp_fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

struct api *api_listen_tcp(struct event_base *base, const char *addr, const char *token,
                           const struct api_ops *ops, void *data, char *err, size_t errlen)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	if (!colon || (size_t)(colon - addr) >= sizeof host) {
		snprintf(err, errlen, "listen %s: expected HOST:PORT", addr);
		return NULL;
	}
	const char *h = addr;
	size_t hl = (size_t)(colon - addr);
	bool bracketed = hl >= 2 && h[0] == '[' && h[hl - 1] == ']';
	if (bracketed) {
		h++;
		hl -= 2;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (!hl || *end || end == colon + 1 || port > 65535) {
		snprintf(err, errlen, "listen %s: expected HOST:PORT", addr);
		return NULL;
	}
	struct api *api = calloc(1, sizeof *api);
	struct api_guard *g = calloc(1, sizeof *g);
	if (!api || !g) {
		free(api);
		free(g);
		snprintf(err, errlen, "listen %s: out of memory", addr);
		return NULL;
	}
	api->base = base;
	api->ops = ops;
	api->data = data;
	api->guard = g;
	api->tcp_fd = -1;
	api_guard_set_token(g, token);
	unsigned char lit[16];
	if (!bracketed && inet_pton(AF_INET, host, lit) != 1)
		snprintf(g->listen_name, sizeof g->listen_name, "%s", host);
	if (gethostname(g->hostname, sizeof g->hostname) != 0)
		g->hostname[0] = '\0';
	g->hostname[sizeof g->hostname - 1] = '\0';
	api->http = evhttp_new(base);
	struct evhttp_bound_socket *bound =
	    api->http ? evhttp_bind_socket_with_handle(api->http, host, (ev_uint16_t)port) : NULL;
	if (!bound) {
		snprintf(err, errlen, "listen %s: cannot bind (address in use or not local?)",
		         addr);
		if (api->http)
			evhttp_free(api->http);
		free(g);
		free(api);
		return NULL;
	}
	api->tcp_fd = evhttp_bound_socket_get_fd(bound);
	g->loopback = bound_loopback(api->tcp_fd);
	api_serve(api);
	return api;
}

void api_set_token(struct api *api, const char *token)
{
	if (api && api->guard)
		api_guard_set_token(api->guard, token);
}
