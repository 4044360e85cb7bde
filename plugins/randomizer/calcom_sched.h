/* Cal.com schedules (api-contracts §1.2): one brand's plan applied in ONE PATCH — overrides
 * replace, never merge — then read back and compared. */
#ifndef CHORED_RANDOMIZER_CALCOM_SCHED_H
#define CHORED_RANDOMIZER_CALCOM_SCHED_H

#include "plan_io.h"

/* Applies brand `b`'s slots of `pl` to its schedule and verifies them. Returns 0, or -1
 * with the reason (status and Cal.com's message, or the first difference) in err. */
int rz_apply_brand(struct chored_job *job, const struct rz_opts *o, size_t b, const struct plan *pl,
                   char *err, size_t errlen);

#endif
