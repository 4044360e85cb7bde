/* The slot watcher's booking pages (`pages = brand=SLUG@USERNAME brand=EVENT_TYPE_ID …`) and
 * their bookable slots from Cal.com's GET /v2/slots (api-contracts §1.1). */
#ifndef CHORED_SLOTWATCH_PAGES_H
#define CHORED_SLOTWATCH_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <chored/job.h>

#define SW_MAX_PAGES 32

struct sw_page {
	char brand[64];
	char slug[128]; /* "" when selected by id */
	char username[128];
	long event_type_id; /* 0 when selected by slug */
};

/* Parses `text`; returns the count, or -1 with a message naming the bad item. */
int sw_pages_parse(const char *text, struct sw_page *out, size_t max, char *err, size_t errlen);

/* The bookable slots of one page: start instants (UTC seconds) and, per local date of the
 * booking zone, how many. */
struct sw_slots {
	int64_t *starts; /* owned, sorted */
	size_t n;
};

/* Asks GET /v2/slots for [from_day, to_day] (days since 1970-01-01 in `zone`). Returns 0,
 * or -1 with the reason in err — the page is then unknown for this run, never "0 slots". */
int sw_fetch_slots(struct chored_job *job, const char *base_url, const char *api_key,
                   const char *zone, const struct sw_page *pg, int64_t from_day, int64_t to_day,
                   struct sw_slots *out, char *err, size_t errlen);
void sw_slots_free(struct sw_slots *s);
bool sw_slots_has(const struct sw_slots *s, int64_t start);

#endif
