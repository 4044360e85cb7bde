/* The dashboard (design §10, GET /): the live "Crons" page, one card per job, served as
 * HTML that reads without JavaScript and updates itself with it. No external assets. */
#ifndef CHORED_DASHBOARD_H
#define CHORED_DASHBOARD_H

#include <stdbool.h>

struct api;
struct evhttp_request;

/* Answers the dashboard's own routes (GET / and whatever pages and JSON it serves beside
 * the /v1 API) from api->ops. Returns false, answering nothing, for any other path, which
 * the API router then handles. `path` is the request's path as sent (not decoded). */
bool api_dashboard_route(struct api *api, struct evhttp_request *req, const char *path);

#endif
