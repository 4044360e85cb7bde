/* The chored daemon (design §2, §6, §10): one libevent loop that keeps the schedule of
 * the live generation, starts runs through chored-run, records them, reloads on SIGHUP and
 * serves the control socket. Single-threaded: everything below runs on the loop.
 *
 * A generation is one validated configuration with its plugin registry and the schedule
 * state of each of its jobs. Reload builds a new one and swaps it in only when it is
 * complete; runs keep a reference to the generation they started under. */
#ifndef CHORED_DAEMON_H
#define CHORED_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "state.h"

struct event;
struct event_base;
struct api;
struct api_req;
struct plugin_set;
struct run;

/* Options from the command line. */
struct daemon_opts {
	const char *config_path; /* NULL = compiled-in default */
};

/* A slot waiting for its job's current run to end (queue, replace, catch-up, retry). */
struct pending {
	int64_t nominal;
	unsigned attempt;
	enum run_trigger trigger;
	int64_t due_ns; /* when it became due (CLOCK_REALTIME ns), 0 = when it starts */
};

/* Schedule state of one job of a generation. */
struct jstate {
	const struct cfg_job *job; /* in gen->cfg */
	size_t heap_idx;           /* position in the daemon's timer heap, SIZE_MAX = none */
	int64_t next;              /* nominal of the next calendar slot (UTC s), 0 = none */
	int64_t fire_ns;           /* next + jitter, CLOCK_REALTIME ns */
	struct run *running;       /* the live run of this job (any generation), or NULL */
	struct pending *pending;   /* FIFO, owned */
	size_t n_pending, cap_pending;
	/* Slots that passed without a run since the daemon started (missed-run alarm). */
	uint64_t missed;
	int64_t last_missed; /* nominal of the latest missed slot (UTC s), 0 = none */
	/* The run whose overlap skips were last notified: one message per blocking run, not
	 * one per skipped slot. */
	int64_t skip_notified_run;
};

struct gen {
	unsigned refs;
	unsigned id; /* 1, 2, … */
	struct cfg *cfg;
	struct plugin_set *plugins;
	struct jstate *jobs; /* parallel to cfg->jobs */
};

struct retry;    /* a timer for one retry (daemon.c) */
struct notifier; /* a notify-only chored-run in flight (missed_notify.c) */

struct daemon {
	struct event_base *base;
	struct daemon_opts opts;
	const char *runner_path; /* chored-run */
	struct gen *gen;         /* live generation (one reference) */
	unsigned n_gens;         /* generations built so far */
	struct state *st;
	struct api *api;    /* control socket */
	struct api *admin;  /* admin HTTP on [daemon] listen, NULL when off */
	char *admin_listen; /* the address it serves (listen changes need a restart) */
	char *socket_path;
	int64_t started_ms;

	struct jstate **heap; /* min-heap on fire_ns */
	size_t heap_n, heap_cap;
	int tfd;          /* timerfd, CLOCK_REALTIME, absolute, cancelled on clock steps */
	int64_t armed_ns; /* the instant tfd is armed for (0 = disarmed, -1 = unknown) */
	bool in_timer;    /* on_timer is running: it re-arms tfd once on its way out */
	struct event *tfd_ev;
	int64_t last_real_ns, last_mono_ns; /* at the last wake: clock step/suspend detection */

	struct event *sig_hup, *sig_term, *sig_int;
	struct event *reload_ev; /* deferred reload: coalesces SIGHUPs and API requests */
	struct api_req **reload_waiters;
	size_t n_reload_waiters;
	unsigned reloads, reload_failed;

	struct gen **retired; /* replaced generations, released after the reload is answered */
	size_t n_retired;
	struct event *retire_ev;

	struct event *watchdog_ev;
	bool stopping;
	struct event *stop_cancel_ev, *stop_kill_ev, *stop_final_ev;
	int exit_code;

	struct run *runs; /* live runs and ended ones kept a while for their events */
	/* The ended ones among them, in the order they ended (jobrun.c's linger sweep). */
	struct run *ended_head, *ended_tail;
	struct retry *retries;
	struct notifier *notifiers; /* owned list (missed_notify.c) */
	uint64_t rng;
};

/* Runs the daemon until SIGTERM/SIGINT. Returns the exit status (0, or EX_CONFIG /
 * EX_UNAVAILABLE / EX_CANTCREAT when it could not start). */
int daemon_main(const struct daemon_opts *opts);

/* Generations are shared by the daemon and the runs started under them. */
struct gen *gen_ref(struct gen *g);
void gen_unref(struct gen *g);

/* The live generation's state of job `name`, or NULL. */
struct jstate *daemon_jstate(struct daemon *d, const char *name);
/* A uniform 64-bit random number (xorshift seeded from getrandom). */
uint64_t daemon_random(struct daemon *d);
int64_t daemon_now_ms(void);
int64_t daemon_real_ns(void);
int64_t daemon_mono_ns(void);

/* A manual run (chorectl run / POST /v1/jobs/NAME/run): 0 with *run_id, 404 unknown job,
 * 409 not runnable now (message in err), 500 store or spawn error. */
int daemon_run_manual(struct daemon *d, const char *name, bool dry_run, bool has_at, int64_t at,
                      int64_t *run_id, char *err, size_t errlen);
/* Asks for a reload; `req` (may be NULL) is answered when it is over. */
void daemon_request_reload(struct daemon *d, struct api_req *req);
/* Called by jobrun.c when a run has ended and been recorded. */
void daemon_run_ended(struct daemon *d, struct run *r);
/* A run of a scheduled slot (not manual, not a dry run) ended without its plugin ever
 * running (the runner could not start, load or check it): its slot counts as missed. */
void daemon_slot_not_run(struct daemon *d, const struct run *r);
/* While stopping: ends the loop once no run and no notification is in flight. */
void daemon_maybe_exit(struct daemon *d);

/* The api_ops table of daemon_api.c. */
extern const struct api_ops daemon_api_ops;

#endif
