/* Notify-only runners: the report of a slot or run that the plugin's runner could not send
 * itself. See missed.h and the "notify_only" member in runproto.h. */
#include "missed.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "daemon.h"
#include "log.h"
#include "runinput_notify.h"
#include "runner.h"
#include "xalloc.h"

/* A notify-only runner talks to the sinks only (SMTP, HTTP APIs with their own timeouts and
 * retries): past this it is killed and the failure logged. */
#define NOTIFY_TIMEOUT_S 300
/* Notify-only runners at once; more wait in order (a restart after a long downtime may
 * find every job missed). */
#define NOTIFY_MAX_LIVE 4

/* One notify-only chored-run, waiting or in flight, in the daemon's list (oldest first). */
struct notifier {
	struct notifier *next;
	struct daemon *d;
	struct json_object *input; /* owned until started: the runner's document */
	struct runner *runner;     /* owned once started */
	char *job;                 /* owned copy: the generation may go while it runs */
	char *status;              /* owned: what it reports */
};

static void unlink_notifier(struct notifier *n)
{
	for (struct notifier **pp = &n->d->notifiers; *pp; pp = &(*pp)->next)
		if (*pp == n) {
			*pp = n->next;
			return;
		}
}

static void notifier_free(struct notifier *n)
{
	if (n->runner)
		runner_free(n->runner);
	if (n->input)
		json_object_put(n->input);
	free(n->job);
	free(n->status);
	free(n);
}

/* The runner's own lines (secrets already redacted by the spawn layer) go to the daemon's
 * log: they are the only trace of a notification, which is not a run. */
static void on_output(void *data, const char *line)
{
	struct notifier *n = data;
	log_msg(LOG_L_DEBUG, "job %s notify (%s): %s", n->job, n->status, line);
}

static void on_record(void *data, struct json_object *rec)
{
	struct notifier *n = data;
	struct json_object *t, *v;
	if (!json_object_object_get_ex(rec, "t", &t) ||
	    strcmp(json_object_get_string(t), "log") != 0 ||
	    !json_object_object_get_ex(rec, "msg", &v))
		return;
	struct json_object *lv;
	int level = json_object_object_get_ex(rec, "level", &lv) ? json_object_get_int(lv) : 6;
	if (level < LOG_L_ERR)
		level = LOG_L_ERR;
	if (level > LOG_L_DEBUG)
		level = LOG_L_DEBUG;
	log_msg(level, "job %s notify (%s): %s", n->job, n->status, json_object_get_string(v));
}

static void start_waiting(struct daemon *d);

static void on_done(void *data, const struct runner_result *res)
{
	struct notifier *n = data;
	if (res->status != RUN_OK)
		log_msg(LOG_L_WARNING, "job %s: the %s notification %s%s%s", n->job, n->status,
		        res->status == RUN_PARTIAL ? "reached only some sinks" : "failed",
		        res->summary ? ": " : "", res->summary ? res->summary : "");
	struct daemon *d = n->d;
	unlink_notifier(n);
	notifier_free(n); /* frees the runner: allowed from its done callback */
	start_waiting(d);
	daemon_maybe_exit(d);
}

static const struct runner_cbs notify_cbs = {
    .output = on_output,
    .record = on_record,
    .done = on_done,
};

/* Whether any sink of the job could want a report that is not "ok": on-failure and always
 * do; on-change may (the runner compares with the previous status); never does not. */
static bool any_sink_wants(const struct cfg_job *job)
{
	for (size_t i = 0; i < job->n_notify; i++)
		if (job->notify[i].policy != CFG_POLICY_NEVER)
			return true;
	return false;
}

/* Spawns n's runner; false (logged) when it cannot start. */
static bool start(struct notifier *n)
{
	struct json_object *red;
	size_t n_red =
	    json_object_object_get_ex(n->input, "redact", &red) ? json_object_array_length(red) : 0;
	const char **redact = xcalloc(n_red + 1, sizeof *redact);
	for (size_t i = 0; i < n_red; i++)
		redact[i] = json_object_get_string(json_object_array_get_idx(red, i));
	struct runner_params p = {
	    .path = n->d->runner_path,
	    .input = n->input,
	    .redact = redact,
	    .timeout_s = NOTIFY_TIMEOUT_S,
	    .grace_s = 5,
	};
	char err[256];
	int rc = runner_start(n->d->base, &p, &notify_cbs, n, &n->runner, err, sizeof err);
	free(redact);
	json_object_put(n->input);
	n->input = NULL;
	if (rc < 0) {
		n->runner = NULL;
		log_msg(LOG_L_ERR, "job %s: could not start the %s notification: %s", n->job,
		        n->status, err);
		return false;
	}
	log_msg(LOG_L_DEBUG, "job %s: notifying %s (pid %ld)", n->job, n->status,
	        (long)runner_pid(n->runner));
	return true;
}

/* Starts waiting notifiers, oldest first, while fewer than NOTIFY_MAX_LIVE run. */
static void start_waiting(struct daemon *d)
{
	size_t live = 0;
	for (struct notifier *n = d->notifiers; n; n = n->next)
		live += n->runner != NULL;
	for (struct notifier *n = d->notifiers, *next; n && live < NOTIFY_MAX_LIVE; n = next) {
		next = n->next;
		if (n->runner)
			continue;
		if (d->stopping) {
			log_msg(LOG_L_WARNING, "job %s: the %s notification is dropped (stopping)",
			        n->job, n->status);
		} else if (start(n)) {
			live++;
			continue;
		}
		unlink_notifier(n);
		notifier_free(n);
	}
}

void missed_notify(struct daemon *d, struct gen *g, const struct cfg_job *job, const char *status,
                   const char *summary, int64_t nominal, int64_t run_id)
{
	if (d->stopping || !any_sink_wants(job))
		return;
	struct json_object *in = json_object_new_object();
	char id[24];
	snprintf(id, sizeof id, "%" PRId64, run_id);
	json_object_object_add(in, "job", json_object_new_string(job->name));
	json_object_object_add(in, "run_id", json_object_new_string(run_id ? id : ""));
	json_object_object_add(in, "nominal", json_object_new_int64(nominal));
	json_object_object_add(in, "dry_run", json_object_new_boolean(false));
	struct json_object *no = json_object_new_object();
	json_object_object_add(no, "status", json_object_new_string(status));
	json_object_object_add(no, "summary", json_object_new_string(summary ? summary : ""));
	json_object_object_add(no, "nominal", json_object_new_int64(nominal));
	json_object_object_add(in, "notify_only", no);
	/* Sinks write as the job's runs do (an outbox's files belong to the job's user). */
	if (job->user) {
		struct json_object *lim = json_object_new_object();
		json_object_object_add(lim, "user", json_object_new_string(job->user));
		json_object_object_add(in, "limits", lim);
	}
	/* The job's sinks, their secrets in "redact", previous_status for on-change (only runs
	 * before run_id; a missed slot's record is skipped, which previous_status never
	 * counts). */
	runinput_add_notify(in, g->cfg, job, d->st, run_id);

	struct notifier *n = xcalloc(1, sizeof *n);
	n->d = d;
	n->input = in;
	n->job = xstrdup(job->name);
	n->status = xstrdup(status);
	struct notifier **pp = &d->notifiers;
	while (*pp)
		pp = &(*pp)->next;
	*pp = n;
	start_waiting(d);
}

size_t missed_notify_live(const struct daemon *d)
{
	size_t k = 0;
	for (const struct notifier *n = d->notifiers; n; n = n->next)
		k += n->runner != NULL;
	return k;
}

void missed_notify_free_all(struct daemon *d)
{
	while (d->notifiers) {
		struct notifier *n = d->notifiers;
		d->notifiers = n->next;
		log_msg(LOG_L_WARNING, "job %s: the %s notification was %s at exit", n->job,
		        n->status, n->runner ? "stopped" : "dropped");
		notifier_free(n);
	}
}
