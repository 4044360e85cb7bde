/* The admin HTTP listener ([daemon] listen). First cut: serves the API router on a TCP
 * address; the token check, Host check and bad-token slow-down come with the admin API. */
#include "chored-build.h"

#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_internal.h"

struct api *api_listen_tcp(struct event_base *base, const char *addr, const char *token,
                           const struct api_ops *ops, void *data, char *err, size_t errlen)
{
	(void)token;
	char host[256];
	const char *colon = strrchr(addr, ':');
	if (!colon || (size_t)(colon - addr) >= sizeof host) {
		snprintf(err, errlen, "listen %s: expected HOST:PORT", addr);
		return NULL;
	}
	const char *h = addr;
	size_t hl = (size_t)(colon - addr);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	unsigned port = (unsigned)strtoul(colon + 1, NULL, 10);
	struct api *api = calloc(1, sizeof *api);
	if (!api) {
		snprintf(err, errlen, "listen %s: out of memory", addr);
		return NULL;
	}
	api->base = base;
	api->ops = ops;
	api->data = data;
	api->http = evhttp_new(base);
	if (!api->http || !evhttp_bind_socket_with_handle(api->http, host, (uint16_t)port)) {
		snprintf(err, errlen, "listen %s: cannot bind (address in use or not local?)",
		         addr);
		if (api->http)
			evhttp_free(api->http);
		free(api);
		return NULL;
	}
	evhttp_set_gencb(api->http, api_route, api);
	return api;
}

void api_set_token(struct api *api, const char *token)
{
	(void)api;
	(void)token;
}
