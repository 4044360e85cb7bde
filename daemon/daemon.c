/* The daemon loop: generations, the slot timer, overlap/catch-up/retry decisions,
 * reload, signals and shutdown. See daemon.h. */
#include "chored-build.h"

#include "daemon.h"

#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "api.h"
#include "jobrun.h"
#include "log.h"
#include "metrics.h"
#include "missed.h"
#include "plugins.h"
#include "slots.h"
#include "sdnotify.h"
#include "sysexits_compat.h"
#include "xalloc.h"

/* SIGTERM: runs get this long to finish; at half of it they are asked to stop (SIGTERM to
 * their process group), at the end they are killed. Not a config key (design §4). */
#define STOP_GRACE_S 30
#define NS           INT64_C(1000000000)
/* The timer wakes this long before a slot's instant: the slot is claimed in the store and
 * the runner spawned with its input; it loads the plugin, checks the options and waits
 * until the instant itself (runproto.h "release_ns"), so that neither the process start nor
 * the dynamic loading (~5-90 ms, libcurl-linked plugins the most) delays the run, and the
 * daemon does not wake a second time per run to let it go. */
#define LEAD_NS INT64_C(100000000)
/* After a clock step or a resume, a slot whose instant is further behind than this was
 * jumped or slept over, not merely reached late. */
#define MISSED_NS NS

struct retry {
	struct retry *next;
	struct daemon *d;
	struct event *ev;
	char *job;
	int64_t nominal;
	unsigned attempt;
};

/* ---- clocks and randomness ---- */

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

int64_t daemon_real_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

int64_t daemon_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

int64_t daemon_now_ms(void)
{
	return daemon_real_ns() / 1000000;
}

static int64_t now_s(void)
{
	return daemon_real_ns() / NS;
}

uint64_t daemon_random(struct daemon *d)
{
	/* xorshift64*: jitter needs spread, not secrecy. */
	uint64_t x = d->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	d->rng = x;
	return x * UINT64_C(2685821657736338717);
}

/* ---- generations ---- */

struct gen *gen_ref(struct gen *g)
{
	g->refs++;
	return g;
}

static void jstate_clear_pending(struct jstate *js)
{
	free(js->pending);
	js->pending = NULL;
	js->n_pending = js->cap_pending = 0;
}

void gen_unref(struct gen *g)
{
	if (!g || --g->refs)
		return;
	for (size_t i = 0; i < g->cfg->n_jobs; i++)
		jstate_clear_pending(&g->jobs[i]);
	free(g->jobs);
	plugin_set_free(g->plugins);
	cfg_free(g->cfg);
	free(g);
}

static void diag_add(struct cfg_diag *diag, const char *msg)
{
	diag->errors = xrealloc(diag->errors, (diag->n_errors + 1) * sizeof *diag->errors);
	diag->errors[diag->n_errors++] = xstrdup(msg);
}

/* Parses the configuration, loads the plugins and validates every job: a complete new
 * generation, or NULL with every error in diag. */
static struct gen *gen_build(struct daemon *d, struct cfg_diag *diag)
{
	struct cfg *cfg = NULL;
	struct plugin_set *ps = NULL;
	char err[512];
	int64_t t0 = daemon_mono_ns();
	if (cfg_load(d->opts.config_path, &cfg, diag) < 0)
		return NULL;
	int64_t t1 = daemon_mono_ns();
	if (plugin_set_load(cfg->daemon.plugin_dir, &ps, err, sizeof err) < 0) {
		diag_add(diag, err);
		cfg_free(cfg);
		return NULL;
	}
	for (size_t i = 0; i < ps->n; i++)
		if (ps->plugins[i].error)
			log_msg(LOG_L_WARNING, "plugin refused: %s", ps->plugins[i].error);
	int64_t t2 = daemon_mono_ns();
	if (plugin_validate_config(ps, cfg, diag) > 0) {
		plugin_set_free(ps);
		cfg_free(cfg);
		return NULL;
	}
	int64_t t3 = daemon_mono_ns();
	log_msg(LOG_L_DEBUG,
	        "generation built: config %.1f ms, plugins %.1f ms, validation %.1f ms",
	        (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6, (double)(t3 - t2) / 1e6);
	struct gen *g = xcalloc(1, sizeof *g);
	g->refs = 1;
	g->id = ++d->n_gens;
	g->cfg = cfg;
	g->plugins = ps;
	g->jobs = xcalloc(cfg->n_jobs ? cfg->n_jobs : 1, sizeof *g->jobs);
	for (size_t i = 0; i < cfg->n_jobs; i++) {
		g->jobs[i].job = &cfg->jobs[i];
		g->jobs[i].heap_idx = SIZE_MAX;
	}
	return g;
}

static struct jstate *gen_jstate(struct gen *g, const char *name)
{
	if (!g)
		return NULL;
	const struct cfg_job *j = cfg_find_job(g->cfg, name);
	return j ? &g->jobs[j - g->cfg->jobs] : NULL;
}

struct jstate *daemon_jstate(struct daemon *d, const char *name)
{
	return gen_jstate(d->gen, name);
}

/* ---- the timer heap (min on fire_ns) ---- */

static void heap_swap(struct daemon *d, size_t a, size_t b)
{
	struct jstate *t = d->heap[a];
	d->heap[a] = d->heap[b];
	d->heap[b] = t;
	d->heap[a]->heap_idx = a;
	d->heap[b]->heap_idx = b;
}

static void heap_up(struct daemon *d, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (d->heap[p]->fire_ns <= d->heap[i]->fire_ns)
			break;
		heap_swap(d, i, p);
		i = p;
	}
}

static void heap_down(struct daemon *d, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < d->heap_n && d->heap[l]->fire_ns < d->heap[m]->fire_ns)
			m = l;
		if (r < d->heap_n && d->heap[r]->fire_ns < d->heap[m]->fire_ns)
			m = r;
		if (m == i)
			return;
		heap_swap(d, i, m);
		i = m;
	}
}

static void heap_push(struct daemon *d, struct jstate *js)
{
	if (d->heap_n == d->heap_cap) {
		d->heap_cap = d->heap_cap ? d->heap_cap * 2 : 64;
		d->heap = xrealloc(d->heap, d->heap_cap * sizeof *d->heap);
	}
	js->heap_idx = d->heap_n;
	d->heap[d->heap_n++] = js;
	heap_up(d, js->heap_idx);
}

static struct jstate *heap_pop(struct daemon *d)
{
	struct jstate *top = d->heap[0];
	heap_swap(d, 0, --d->heap_n);
	heap_down(d, 0);
	top->heap_idx = SIZE_MAX;
	return top;
}

/* The instant the timer must wake at (CLOCK_REALTIME ns), 0 = never: the lead before the
 * earliest due slot. Stopping: no new slot (runs spawned ahead still go, by themselves). */
static int64_t timer_target(const struct daemon *d)
{
	if (!d->heap_n || d->stopping)
		return 0;
	return d->heap[0]->fire_ns - LEAD_NS > 0 ? d->heap[0]->fire_ns - LEAD_NS : 1;
}

/* Arms the one timer for the earliest thing due; disarms it when nothing is. A call that
 * would not change it makes no system call, unless `force` (the timer just expired). */
static void arm_timer(struct daemon *d, bool force)
{
	if (!force && d->in_timer)
		return; /* on_timer arms it once on its way out */
	int64_t t = timer_target(d);
	if (!force && t == d->armed_ns)
		return;
	struct itimerspec its = {0};
	its.it_value.tv_sec = t / NS;
	its.it_value.tv_nsec = t % NS;
	if (timerfd_settime(d->tfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL) < 0) {
		log_msg(LOG_L_ERR, "timerfd_settime: %s", strerror(errno));
		d->armed_ns = -1;
		return;
	}
	d->armed_ns = t;
}

/* Sets the job's next slot strictly after `after` (keeping its place in the heap). */
static void set_next(struct daemon *d, struct jstate *js, int64_t after)
{
	int64_t n;
	if (js->job->enabled && sched_next(js->job, after, &n)) {
		js->next = n;
		js->fire_ns = n * NS + sched_jitter_ns(js->job->jitter, daemon_random(d));
	} else {
		js->next = 0;
	}
}

/* ---- slots and runs ---- */

static void pending_push(struct jstate *js, int64_t nominal, unsigned attempt,
                         enum run_trigger trig, int64_t due_ns)
{
	if (js->n_pending == js->cap_pending) {
		js->cap_pending = js->cap_pending ? js->cap_pending * 2 : 4;
		js->pending = xrealloc(js->pending, js->cap_pending * sizeof *js->pending);
	}
	js->pending[js->n_pending++] = (struct pending){nominal, attempt, trig, due_ns};
}

/* Counts `n` slots of js that passed without a run (the newest `last`), logs one line,
 * records them as one skipped run at slot `last` with the summary (when `record`; trigger
 * schedule, as an overlap skip: the schedule made the slot due, nothing ran it), and
 * notifies the job's sinks. */
static void note_missed(struct daemon *d, struct jstate *js, const char *cause,
                        enum run_trigger trig, uint64_t n, bool at_least, int64_t first,
                        int64_t last, bool record)
{
	const char *name = js->job->name;
	js->missed += n;
	if (last > js->last_missed)
		js->last_missed = last;
	metrics_missed(name, n > UINT32_MAX ? UINT32_MAX : (unsigned)n);
	char summary[300], err[256];
	missed_summary(summary, sizeof summary, cause, n, at_least, first, last);
	int64_t id = 0;
	if (record) {
		int rc = state_run_skip(d->st, name, last, trig, summary, daemon_now_ms(), &id, err,
		                        sizeof err);
		if (rc < 0)
			log_msg(LOG_L_ERR, "job %s: could not record the missed slots: %s", name,
			        err);
		else if (rc == 1) {
			/* Another daemon sharing the store recorded (and notified) it. */
			log_msg(LOG_L_INFO, "job %s: %s (recorded by another daemon)", name,
			        summary);
			return;
		}
	}
	log_msg(LOG_L_WARNING, "job %s: %s", name, summary);
	missed_notify(d, d->gen, js->job, "missed", summary, last, id);
}

/* Starts waiting slots while the job has no run in flight. */
static void kick(struct daemon *d, struct jstate *js)
{
	while (!js->running && js->n_pending && !d->stopping) {
		struct pending p = js->pending[0];
		memmove(js->pending, js->pending + 1, (js->n_pending - 1) * sizeof *js->pending);
		js->n_pending--;
		int64_t due = p.due_ns ? p.due_ns : daemon_real_ns();
		bool claimed;
		char err[300], cause[400];
		struct run *r = run_start(d, d->gen, js->job, p.nominal, p.attempt, p.trigger,
		                          false, false, 0, due, &claimed, err, sizeof err);
		if (r && run_live(r)) {
			js->running = r;
		} else if (!r && !claimed) {
			/* The store refused the claim: the slot passes without a run. */
			snprintf(cause, sizeof cause, "the run could not start (%s)", err);
			note_missed(d, js, cause, p.trigger, 1, false, p.nominal, p.nominal, false);
		}
	}
}

void daemon_slot_not_run(struct daemon *d, const struct run *r)
{
	struct jstate *js = daemon_jstate(d, r->job->name);
	if (!js)
		return; /* the job was removed: its counters went with it */
	js->missed++;
	if (r->nominal > js->last_missed)
		js->last_missed = r->nominal;
	metrics_missed(js->job->name, 1);
}

static void record_skip(struct daemon *d, struct jstate *js, int64_t nominal, enum run_trigger trig,
                        const char *why)
{
	int64_t id;
	char err[256];
	int rc = state_run_skip(d->st, js->job->name, nominal, trig, why, daemon_now_ms(), &id, err,
	                        sizeof err);
	if (rc < 0) {
		log_msg(LOG_L_ERR, "job %s: could not record a skipped slot: %s", js->job->name,
		        err);
	} else if (rc == 0) {
		log_msg(LOG_L_INFO, "job %s slot %" PRId64 " skipped: %s", js->job->name, nominal,
		        why);
		metrics_run_ended(js->job->name, RUN_SKIPPED, 0, -1);
		js->missed++;
		if (nominal > js->last_missed)
			js->last_missed = nominal;
		metrics_missed(js->job->name, 1);
		/* One message per run that blocks the slots, not one per skipped slot. */
		int64_t blocker = js->running ? js->running->id : 0;
		if (!blocker || blocker != js->skip_notified_run) {
			char summary[300];
			js->skip_notified_run = blocker;
			missed_notify(d, d->gen, js->job, "missed",
			              missed_summary(summary, sizeof summary, why, 1, false,
			                             nominal, nominal),
			              nominal, id);
		}
	}
}

/* A slot is due: run it now, or apply the job's overlap policy. */
static void offer_slot(struct daemon *d, struct jstate *js, int64_t nominal, enum run_trigger trig,
                       int64_t due_ns)
{
	char why[160];
	bool busy = js->running || js->n_pending;
	if (!busy) {
		pending_push(js, nominal, 1, trig, due_ns);
		kick(d, js);
		return;
	}
	switch (js->job->overlap) {
	case CFG_OVERLAP_SKIP:
		if (js->running)
			snprintf(why, sizeof why, "run %" PRId64 " still in progress",
			         js->running->id);
		else
			snprintf(why, sizeof why, "earlier slots still waiting");
		record_skip(d, js, nominal, trig, why);
		break;
	case CFG_OVERLAP_QUEUE:
		/* At most one waiting slot: a third one while one waits is skipped. */
		if (js->n_pending) {
			record_skip(d, js, nominal, trig, "a slot is already queued");
		} else {
			log_msg(LOG_L_INFO, "job %s slot %" PRId64 " queued behind run %" PRId64,
			        js->job->name, nominal, js->running->id);
			pending_push(js, nominal, 1, trig, 0);
		}
		break;
	case CFG_OVERLAP_REPLACE:
		for (size_t i = 0; i < js->n_pending; i++)
			record_skip(d, js, js->pending[i].nominal, js->pending[i].trigger,
			            "replaced by a newer slot");
		js->n_pending = 0;
		pending_push(js, nominal, 1, trig, 0);
		if (js->running) {
			log_msg(LOG_L_INFO, "job %s: cancelling run %" PRId64 " for slot %" PRId64,
			        js->job->name, js->running->id, nominal);
			run_cancel(js->running);
		}
		kick(d, js);
		break;
	}
}

/* The job's timer expired: fire its slot, or catch up on the missed ones when the loop woke
 * more than one slot late (suspend, wall clock stepped forward, daemon stopped by a
 * debugger), or when a clock step or resume was seen and this slot's instant is more than
 * MISSED_NS behind: a slot the machine slept or jumped over is missed, and the job's catchup
 * policy decides (latest: run it once, none: not at all), as after downtime. */
static void fire_due(struct daemon *d, struct jstate *js, bool clock_moved)
{
	int64_t nominal = js->next, due_ns = js->fire_ns, real = daemon_real_ns(), now = real / NS;
	int64_t n2, base = nominal;
	bool late_slot = sched_next(js->job, nominal, &n2) && n2 <= now;
	if (late_slot || (clock_moved && real - due_ns > MISSED_NS)) {
		int64_t slots[64];
		struct sched_gap gap;
		size_t n = sched_catchup(js->job, nominal - 1, now, slots, 64, &gap);
		log_msg(LOG_L_NOTICE,
		        "job %s: woke %" PRId64 " s late, %zu slots due (clock step or suspend); "
		        "catching up %zu",
		        js->job->name, now - nominal, gap.found, n);
		if (gap.missed)
			note_missed(d, js,
			            clock_moved ? "the clock jumped or the machine was suspended"
			                        : "chored woke up too late for them",
			            TRIG_SCHEDULE, gap.missed, gap.capped, gap.first, gap.last,
			            true);
		for (size_t i = 0; i < n; i++)
			pending_push(js, slots[i], 1, TRIG_CATCHUP, 0);
		base = now;
		kick(d, js);
	} else {
		offer_slot(d, js, nominal, TRIG_SCHEDULE, due_ns);
	}
	set_next(d, js, base);
	if (js->next)
		heap_push(d, js);
}

static void retry_free(struct daemon *d, struct retry *rt)
{
	for (struct retry **pp = &d->retries; *pp; pp = &(*pp)->next)
		if (*pp == rt) {
			*pp = rt->next;
			break;
		}
	event_free(rt->ev);
	free(rt->job);
	free(rt);
}

static void retry_fire(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct retry *rt = arg;
	struct daemon *d = rt->d;
	struct jstate *js = daemon_jstate(d, rt->job);
	if (js && js->job->enabled) {
		/* A retry always waits for a run in flight, whatever the overlap policy. */
		pending_push(js, rt->nominal, rt->attempt, TRIG_RETRY, daemon_real_ns());
		kick(d, js);
	} else {
		log_msg(LOG_L_INFO, "job %s: retry dropped (job removed or disabled)", rt->job);
	}
	retry_free(d, rt);
}

static void schedule_retry(struct daemon *d, const struct run *r)
{
	int64_t ms = sched_retry_delay_ms(r->job->retry_delay, r->attempt, daemon_random(d));
	struct retry *rt = xcalloc(1, sizeof *rt);
	rt->d = d;
	rt->job = xstrdup(r->job->name);
	rt->nominal = r->nominal;
	rt->attempt = r->attempt + 1;
	rt->ev = evtimer_new(d->base, retry_fire, rt);
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	evtimer_add(rt->ev, &tv);
	rt->next = d->retries;
	d->retries = rt;
	log_msg(LOG_L_INFO, "job %s: retry %u of %u in %" PRId64 " ms", r->job->name, r->attempt,
	        r->job->retries, ms);
}

static bool any_live_run(struct daemon *d)
{
	for (struct run *r = d->runs; r; r = r->next)
		if (run_live(r))
			return true;
	return false;
}

void daemon_run_ended(struct daemon *d, struct run *r)
{
	bool retryable =
	    r->status == RUN_FAILED || r->status == RUN_CRASHED || r->status == RUN_TIMEOUT;
	/* A plugin that declares `retries` retries inside the run (http: per request, with
	 * Retry-After); retrying the whole run as well would multiply the attempts. */
	if (!d->stopping && retryable && r->trigger != TRIG_MANUAL && !r->cancel_requested &&
	    r->attempt <= r->job->retries &&
	    !plugin_declares(r->gen->plugins, r->job->plugin, "retries"))
		schedule_retry(d, r);
	struct jstate *js = daemon_jstate(d, r->job->name);
	if (js && js->running == r) {
		js->running = NULL;
		kick(d, js);
	}
	daemon_maybe_exit(d);
}

void daemon_maybe_exit(struct daemon *d)
{
	if (d->stopping && !any_live_run(d) && !missed_notify_live(d))
		event_base_loopexit(d->base, NULL);
}

int daemon_run_manual(struct daemon *d, const char *name, bool dry_run, bool has_at, int64_t at,
                      int64_t *run_id, char *err, size_t errlen)
{
	struct jstate *js = daemon_jstate(d, name);
	if (!js)
		return 404;
	if (d->stopping) {
		snprintf(err, errlen, "chored is shutting down");
		return 409;
	}
	if (!js->job->enabled) {
		snprintf(err, errlen, "job %s is disabled", name);
		return 409;
	}
	if (js->running) {
		snprintf(err, errlen, "job %s is running (run %" PRId64 ")", name, js->running->id);
		return 409;
	}
	int64_t real = daemon_real_ns();
	struct run *r = run_start(d, d->gen, js->job, has_at ? at : real / NS, 1, TRIG_MANUAL,
	                          dry_run, has_at, at, real, NULL, err, errlen);
	if (!r)
		return 500;
	if (run_live(r))
		js->running = r;
	*run_id = r->id;
	return 0;
}

/* ---- installing a generation ---- */

static bool same_schedule(const struct cfg_job *a, const struct cfg_job *b)
{
	return a->enabled && b->enabled && a->schedule_text && b->schedule_text &&
	       strcmp(a->schedule_text, b->schedule_text) == 0 && a->tz == b->tz &&
	       a->jitter == b->jitter;
}

/* Makes g the live generation. Reload never fires a job: each next slot is strictly after
 * now, except a job whose schedule did not change, which keeps its armed slot. */
static void gen_install(struct daemon *d, struct gen *g, bool startup)
{
	struct gen *old = d->gen;
	int64_t now = now_s();
	d->heap_n = 0;
	for (size_t i = 0; i < g->cfg->n_jobs; i++) {
		struct jstate *js = &g->jobs[i];
		struct jstate *o = gen_jstate(old, js->job->name);
		if (o) {
			js->running = o->running;
			js->missed = o->missed;
			js->last_missed = o->last_missed;
			js->skip_notified_run = o->skip_notified_run;
			if (js->job->enabled) { /* waiting slots follow the job unless disabled */
				js->pending = o->pending;
				js->n_pending = o->n_pending;
				js->cap_pending = o->cap_pending;
				o->pending = NULL;
				o->n_pending = o->cap_pending = 0;
			}
			if (o->next && same_schedule(o->job, js->job)) {
				js->next = o->next;
				js->fire_ns = o->fire_ns;
			} else {
				set_next(d, js, now);
			}
		} else {
			set_next(d, js, now);
			int64_t stamp;
			/* A job seen for the first time never catches up on the past. */
			if (!startup && js->job->schedule.kind == CRON_CALENDAR &&
			    state_stamp_get(d->st, js->job->name, &stamp) == 1)
				state_stamp_set(d->st, js->job->name, now);
		}
		if (js->next)
			heap_push(d, js);
	}
	d->gen = g;
	if (old) {
		/* Freeing 10,000 jobs takes a while: do it after the reload is answered. */
		d->retired = xrealloc(d->retired, (d->n_retired + 1) * sizeof *d->retired);
		d->retired[d->n_retired++] = old;
		event_active(d->retire_ev, EV_TIMEOUT, 0);
	}
	arm_timer(d, false);
}

static void release_retired(struct daemon *d)
{
	for (size_t i = 0; i < d->n_retired; i++)
		gen_unref(d->retired[i]);
	free(d->retired);
	d->retired = NULL;
	d->n_retired = 0;
}

static void on_retire(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	release_retired(arg);
}

/* At start: missed slots per catchup policy, stamps for new jobs, @reboot. */
/* The runs the previous daemon left running (state_open marked them interrupted): logged,
 * and told to their job's sinks by policy as any other run that ended without reporting
 * (a kill -9 or a power loss must not make a failure silent). Dry runs and jobs no longer
 * configured are only logged. */
static void report_interrupted(struct daemon *d)
{
	size_t n;
	const struct state_interrupted *runs = state_interrupted(d->st, &n);
	for (size_t i = 0; i < n; i++) {
		const struct state_interrupted *r = &runs[i];
		const struct cfg_job *job = cfg_find_job(d->gen->cfg, r->job);
		log_msg(LOG_L_WARNING,
		        "job %s run %" PRId64 " (%s%s) was interrupted: the daemon stopped during "
		        "it%s",
		        r->job, r->id, run_trigger_name(r->trigger), r->dry_run ? ", dry run" : "",
		        job ? "" : "; the job is no longer configured");
		if (job && !r->dry_run)
			missed_notify(d, d->gen, job, run_status_name(RUN_INTERRUPTED),
			              "the daemon stopped while the run was in progress",
			              r->nominal, r->id);
	}
}

static void startup_runs(struct daemon *d)
{
	int64_t now = now_s();
	char *boot_id = NULL, *old_boot = state_meta_get(d->st, "boot_id");
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
	char buf[64] = "";
	if (f) {
		if (fgets(buf, sizeof buf, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
		boot_id = buf;
	}
	bool fresh_boot = boot_id && (!old_boot || strcmp(old_boot, boot_id) != 0);
	for (size_t i = 0; i < d->gen->cfg->n_jobs; i++) {
		struct jstate *js = &d->gen->jobs[i];
		const struct cfg_job *j = js->job;
		if (!j->enabled)
			continue;
		if (j->schedule.kind == CRON_REBOOT) {
			if (fresh_boot)
				pending_push(js, now, 1, TRIG_REBOOT, 0);
			continue;
		}
		if (j->schedule.kind != CRON_CALENDAR)
			continue;
		int64_t stamp;
		int rc = state_stamp_get(d->st, j->name, &stamp);
		if (rc == 1) {
			state_stamp_set(d->st, j->name, now);
			continue;
		}
		if (rc < 0)
			continue;
		int64_t slots[SCHED_CATCHUP_HARD_MAX];
		struct sched_gap gap;
		size_t n = sched_catchup(j, stamp, now, slots, SCHED_CATCHUP_HARD_MAX, &gap);
		if (gap.found)
			log_msg(LOG_L_INFO, "job %s: %zu slots passed while down; catching up %zu",
			        j->name, gap.found, n);
		if (gap.missed)
			note_missed(d, js, "chored was not running", TRIG_SCHEDULE, gap.missed,
			            gap.capped, gap.first, gap.last, true);
		for (size_t k = 0; k < n; k++)
			pending_push(js, slots[k], 1, TRIG_CATCHUP, 0);
		if (j->catchup == CFG_CATCHUP_NONE && gap.found)
			state_stamp_set(d->st, j->name, now);
	}
	if (fresh_boot)
		state_meta_set(d->st, "boot_id", boot_id);
	free(old_boot);
	for (size_t i = 0; i < d->gen->cfg->n_jobs; i++)
		kick(d, &d->gen->jobs[i]);
}

/* The admin listener follows the token of the live generation; a new `listen` address
 * needs a restart (rebinding could fail after the reload was accepted). */
static void admin_reconfigure(struct daemon *d)
{
	const struct cfg_daemon *dc = &d->gen->cfg->daemon;
	if (d->admin)
		api_set_token(d->admin, dc->admin_token);
	if (strcmp(dc->listen ? dc->listen : "", d->admin_listen ? d->admin_listen : "") != 0)
		log_msg(LOG_L_WARNING,
		        "[daemon] listen changed to \"%s\": restart chored to apply it",
		        dc->listen ? dc->listen : "");
}

/* ---- events: timer, reload, signals, watchdog ---- */

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct daemon *d = arg;
	uint64_t ticks;
	/* TFD_TIMER_CANCEL_ON_SET: the wall clock was set (a step either way, or the resume
	 * from a suspend): the timer is cancelled and the read says so. */
	bool clock_moved = read(fd, &ticks, sizeof ticks) < 0 && errno == ECANCELED;
	if (clock_moved)
		log_msg(LOG_L_NOTICE, "the wall clock was set; re-arming the schedule");
	int64_t real = daemon_real_ns(), mono = daemon_mono_ns();
	if (d->last_real_ns) {
		int64_t drift = (real - d->last_real_ns) - (mono - d->last_mono_ns);
		if (drift > NS || drift < -NS) {
			clock_moved = true;
			log_msg(
			    LOG_L_NOTICE,
			    "wall clock moved %+.3f s against the monotonic clock (clock step or "
			    "resume from suspend)",
			    (double)drift / 1e9);
		}
	}
	d->last_real_ns = real;
	d->last_mono_ns = mono;
	/* (A runner spawned ahead waits on a timer that a clock step cancels: it goes at once
	 * then, chored-run's wait_release.) */
	run_sweep_ended(d);
	d->in_timer = true;
	while (d->heap_n && d->heap[0]->fire_ns - LEAD_NS <= real && !d->stopping) {
		fire_due(d, heap_pop(d), clock_moved);
		real = daemon_real_ns();
	}
	d->in_timer = false;
	arm_timer(d, true);
}

static void answer_reload_waiters(struct daemon *d, bool ok, struct json_object *errors)
{
	struct api_req **w = d->reload_waiters;
	size_t n = d->n_reload_waiters;
	d->reload_waiters = NULL;
	d->n_reload_waiters = 0;
	for (size_t i = 0; i < n; i++)
		api_reload_done(w[i], ok, d->gen->id, errors);
	free(w);
}

static void on_reload(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct daemon *d = arg;
	if (d->stopping) {
		answer_reload_waiters(d, false, NULL);
		return;
	}
	sdnotify_reloading();
	int64_t t0 = daemon_mono_ns();
	struct cfg_diag diag = {0};
	struct gen *g = gen_build(d, &diag);
	char status[600];
	if (!g) {
		d->reload_failed++;
		metrics_reload(false);
		struct json_object *errors = json_object_new_array();
		log_msg(LOG_L_ERR, "reload rejected, keeping generation %u (%zu errors)",
		        d->gen->id, diag.n_errors);
		for (size_t i = 0; i < diag.n_errors; i++) {
			log_msg(LOG_L_ERR, "%s", diag.errors[i]);
			json_object_array_add(errors, json_object_new_string(diag.errors[i]));
		}
		snprintf(status, sizeof status, "READY=1\nSTATUS=reload failed: %s",
		         diag.n_errors ? diag.errors[0] : "unknown error");
		status[strcspn(status + 8, "\n") + 8] = '\0';
		sdnotify(status);
		answer_reload_waiters(d, false, errors);
		json_object_put(errors);
	} else {
		d->reloads++;
		metrics_reload(true);
		int64_t t1 = daemon_mono_ns();
		gen_install(d, g, false);
		admin_reconfigure(d);
		int64_t t2 = daemon_mono_ns();
		log_msg(LOG_L_INFO, "reloaded: generation %u, %zu jobs (%.1f ms; swap %.1f ms)",
		        g->id, g->cfg->n_jobs, (double)(t2 - t0) / 1e6, (double)(t2 - t1) / 1e6);
		snprintf(status, sizeof status, "READY=1\nSTATUS=generation %u, %zu jobs", g->id,
		         g->cfg->n_jobs);
		sdnotify(status);
		answer_reload_waiters(d, true, NULL);
	}
	cfg_diag_free(&diag);
}

void daemon_request_reload(struct daemon *d, struct api_req *req)
{
	if (req) {
		d->reload_waiters = xrealloc(d->reload_waiters,
		                             (d->n_reload_waiters + 1) * sizeof *d->reload_waiters);
		d->reload_waiters[d->n_reload_waiters++] = req;
	}
	/* Several requests before the reload runs make one reload; a request that arrives
	 * while it runs makes one more afterwards. */
	event_active(d->reload_ev, EV_TIMEOUT, 0);
}

static void on_sighup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	daemon_request_reload(arg, NULL);
}

static void stop_cancel(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct daemon *d = arg;
	for (struct run *r = d->runs; r; r = r->next)
		if (run_live(r)) {
			log_msg(LOG_L_WARNING,
			        "job %s run %" PRId64 " still running: cancelling it", r->job->name,
			        r->id);
			run_cancel(r);
		}
}

static void stop_kill(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct daemon *d = arg;
	for (struct run *r = d->runs; r; r = r->next)
		if (run_live(r)) {
			log_msg(LOG_L_WARNING, "job %s run %" PRId64 " killed at shutdown",
			        r->job->name, r->id);
			run_kill(r);
		}
}

static void stop_final(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct daemon *d = arg;
	log_msg(LOG_L_ERR, "runs did not end after SIGKILL; exiting anyway");
	event_base_loopexit(d->base, NULL);
}

static void on_sigterm(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct daemon *d = arg;
	if (d->stopping) {
		log_msg(LOG_L_NOTICE, "second %s: killing the runs now", strsignal((int)sig));
		stop_kill(-1, 0, d);
		return;
	}
	d->stopping = true;
	sdnotify("STOPPING=1");
	arm_timer(d, false);
	while (d->retries)
		retry_free(d, d->retries);
	for (size_t i = 0; i < d->gen->cfg->n_jobs; i++)
		d->gen->jobs[i].n_pending = 0; /* not begun: catch-up finds them next start */
	if (!any_live_run(d) && !missed_notify_live(d)) {
		log_msg(LOG_L_INFO, "%s: stopping", strsignal((int)sig));
		event_base_loopexit(d->base, NULL);
		return;
	}
	log_msg(LOG_L_INFO, "%s: stopping once the runs in flight end (at most %d s)",
	        strsignal((int)sig), STOP_GRACE_S);
	struct timeval half = {STOP_GRACE_S / 2, 0}, full = {STOP_GRACE_S, 0},
	               final = {STOP_GRACE_S + RUN_KILL_GRACE_S, 0};
	d->stop_cancel_ev = evtimer_new(d->base, stop_cancel, d);
	d->stop_kill_ev = evtimer_new(d->base, stop_kill, d);
	d->stop_final_ev = evtimer_new(d->base, stop_final, d);
	evtimer_add(d->stop_cancel_ev, &half);
	evtimer_add(d->stop_kill_ev, &full);
	evtimer_add(d->stop_final_ev, &final);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	sdnotify("WATCHDOG=1");
}

/* ---- start and stop ---- */

/* Creates the parent directory of `path` (one level, mode 0755) when it is missing. */
static void make_parent(const char *path)
{
	char *copy = xstrdup(path);
	char *dir = dirname(copy);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		log_msg(LOG_L_WARNING, "cannot create %s: %s", dir, strerror(errno));
	free(copy);
}

static const char *state_path(const char *url)
{
	return strncmp(url, "sqlite://", 9) == 0 ? url + 9 : url;
}

static void daemon_free(struct daemon *d)
{
	while (d->runs)
		run_free(d->runs);
	missed_notify_free_all(d);
	while (d->retries)
		retry_free(d, d->retries);
	if (d->api)
		api_free(d->api);
	if (d->admin)
		api_free(d->admin);
	free(d->admin_listen);
	metrics_free();
	free(d->reload_waiters);
	release_retired(d);
	if (d->gen) {
		for (size_t i = 0; i < d->gen->cfg->n_jobs; i++)
			d->gen->jobs[i].running = NULL;
		gen_unref(d->gen);
	}
	free(d->heap);
	struct event *evs[] = {d->retire_ev,    d->tfd_ev,       d->sig_hup,     d->sig_term,
	                       d->sig_int,      d->reload_ev,    d->watchdog_ev, d->stop_cancel_ev,
	                       d->stop_kill_ev, d->stop_final_ev};
	for (size_t i = 0; i < sizeof evs / sizeof *evs; i++)
		if (evs[i])
			event_free(evs[i]);
	if (d->tfd >= 0)
		close(d->tfd);
	if (d->st)
		state_close(d->st);
	free(d->socket_path);
	if (d->base)
		event_base_free(d->base);
	sdnotify_close();
}

int daemon_main(const struct daemon_opts *opts)
{
	struct daemon dd = {0}, *d = &dd;
	char err[512];
	int rc = 0;
	d->opts = *opts;
	d->tfd = -1;
	d->armed_ns = -1;
	d->started_ms = daemon_now_ms();
	sdnotify_init();
	signal(SIGPIPE, SIG_IGN);
	if (getrandom(&d->rng, sizeof d->rng, 0) != sizeof d->rng || !d->rng)
		d->rng = (uint64_t)daemon_real_ns() | 1;
	d->runner_path = getenv("CHORED_RUNNER");
	if (!d->runner_path || !*d->runner_path)
		d->runner_path = PKGLIBEXECDIR "/chored-run";
	/* libevent's own timers (timeouts, grace periods, retries) need no more than ms
	 * precision; the instants that do (a slot's lead, a held run's release) are on the
	 * daemon's timerfd. Without EVENT_BASE_FLAG_PRECISE_TIMER libevent re-arms no timerfd
	 * of its own on every loop iteration. */
	d->base = event_base_new();
	if (!d->base) {
		log_msg(LOG_L_ERR, "cannot create the event loop");
		return EX_OSERR;
	}

	struct cfg_diag diag = {0};
	struct gen *g = gen_build(d, &diag);
	if (!g) {
		for (size_t i = 0; i < diag.n_errors; i++)
			log_msg(LOG_L_ERR, "%s", diag.errors[i]);
		log_msg(LOG_L_ERR, "configuration rejected (%zu errors)", diag.n_errors);
		cfg_diag_free(&diag);
		daemon_free(d);
		return EX_CONFIG;
	}
	cfg_diag_free(&diag);

	make_parent(state_path(g->cfg->daemon.state));
	if (state_open(g->cfg->daemon.state, &d->st, err, sizeof err) < 0) {
		log_msg(LOG_L_ERR, "state: %s", err);
		gen_unref(g);
		daemon_free(d);
		return EX_CANTCREAT;
	}

	d->tfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->tfd < 0) {
		log_msg(LOG_L_ERR, "timerfd_create: %s", strerror(errno));
		gen_unref(g);
		daemon_free(d);
		return EX_OSERR;
	}
	d->tfd_ev = event_new(d->base, d->tfd, EV_READ | EV_PERSIST, on_timer, d);
	event_add(d->tfd_ev, NULL);
	d->reload_ev = event_new(d->base, -1, 0, on_reload, d);
	d->retire_ev = event_new(d->base, -1, 0, on_retire, d);
	d->sig_hup = evsignal_new(d->base, SIGHUP, on_sighup, d);
	d->sig_term = evsignal_new(d->base, SIGTERM, on_sigterm, d);
	d->sig_int = evsignal_new(d->base, SIGINT, on_sigterm, d);
	event_add(d->sig_hup, NULL);
	event_add(d->sig_term, NULL);
	event_add(d->sig_int, NULL);

	gen_install(d, g, true);

	if (g->cfg->daemon.socket && *g->cfg->daemon.socket) {
		d->socket_path = xstrdup(g->cfg->daemon.socket);
		make_parent(d->socket_path);
		d->api =
		    api_listen_unix(d->base, d->socket_path, &daemon_api_ops, d, err, sizeof err);
		if (!d->api) {
			log_msg(LOG_L_ERR, "control socket: %s", err);
			daemon_free(d);
			return EX_CANTCREAT;
		}
	}
	if (g->cfg->daemon.listen && *g->cfg->daemon.listen) {
		d->admin_listen = xstrdup(g->cfg->daemon.listen);
		d->admin = api_listen_tcp(d->base, d->admin_listen, g->cfg->daemon.admin_token,
		                          &daemon_api_ops, d, err, sizeof err);
		if (!d->admin) {
			log_msg(LOG_L_ERR, "admin HTTP: %s", err);
			daemon_free(d);
			return EX_UNAVAILABLE;
		}
	}
	uint64_t wd = sdnotify_watchdog_usec();
	if (wd) {
		d->watchdog_ev = event_new(d->base, -1, EV_PERSIST, on_watchdog, d);
		struct timeval tv = {(time_t)(wd / 2 / 1000000), (suseconds_t)(wd / 2 % 1000000)};
		event_add(d->watchdog_ev, &tv);
	}
	log_msg(LOG_L_INFO, "chored %s started: generation %u, %zu jobs, %zu plugins%s%s",
	        PACKAGE_VERSION, g->id, g->cfg->n_jobs, g->plugins->n,
	        d->socket_path ? ", socket " : "", d->socket_path ? d->socket_path : "");
	snprintf(err, sizeof err, "READY=1\nSTATUS=generation %u, %zu jobs", g->id, g->cfg->n_jobs);
	sdnotify(err);

	report_interrupted(d);
	startup_runs(d);
	d->last_real_ns = daemon_real_ns();
	d->last_mono_ns = daemon_mono_ns();
	event_base_dispatch(d->base);

	log_msg(LOG_L_INFO, "chored stopped");
	daemon_free(d);
	return rc;
}
