/* Placeholder until the dashboard lands: every path goes to the API router. */
#include "dashboard.h"

bool api_dashboard_route(struct api *api, struct evhttp_request *req, const char *path)
{
	(void)api;
	(void)req;
	(void)path;
	return false;
}
