/* The notification part of a runner's input document (runproto.h): the job's sinks with
 * their policies and keys, the previous run's status (for on-change) and the state directory
 * (the outbox default). Sink secrets are appended to the input's "redact" array. */
#ifndef CHORED_RUNINPUT_NOTIFY_H
#define CHORED_RUNINPUT_NOTIFY_H

#include <stdint.h>

#include "config.h"
#include "state.h"

struct json_object;

/* Adds "notify", "previous_status" and "state_dir" to `in` for run `run_id` of `job`. */
void runinput_add_notify(struct json_object *in, const struct cfg *cfg, const struct cfg_job *job,
                         struct state *st, int64_t run_id);

#endif
