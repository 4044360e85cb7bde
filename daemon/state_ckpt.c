/* WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the commit
 * that crosses the threshold and fsyncs both files there: measured 10-25 ms, long enough to
 * make the scheduler late. Instead a commit hook wakes a thread of our own that checkpoints
 * on its own connection (PASSIVE: it never blocks the writer, and the writer restarts the
 * WAL once it has been copied). If that thread ever falls far behind, the commit that
 * notices checkpoints in line, so the WAL stays bounded. */
#include "state_internal.h"

#include <signal.h>
#include <stdlib.h>
#include <threads.h>

/* Wake the thread once the WAL holds this many pages (SQLite's own default)… */
#define CKPT_PAGES 1000
/* …and checkpoint in line when it got to this many anyway (~40 MB at 4 KiB pages): a
 * writer that never pauses keeps a PASSIVE checkpoint from ever restarting the WAL. */
#define CKPT_INLINE_PAGES 10000

struct state_ckpt {
	thrd_t thread;
	mtx_t mu;
	cnd_t cv;
	bool due, stop; /* under mu */
	sqlite3 *db;    /* the thread's own connection */
};

static int ckpt_main(void *arg)
{
	struct state_ckpt *c = arg;
	mtx_lock(&c->mu);
	for (;;) {
		while (!c->due && !c->stop)
			cnd_wait(&c->cv, &c->mu);
		if (c->stop)
			break;
		c->due = false;
		mtx_unlock(&c->mu);
		/* Errors (SQLITE_BUSY from a checkpointer elsewhere) just mean "next time". */
		sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		mtx_lock(&c->mu);
	}
	mtx_unlock(&c->mu);
	return 0;
}

/* Called by SQLite after each commit on the daemon's connection, in the loop's thread. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct state_ckpt *c = arg;
	if (pages >= CKPT_INLINE_PAGES)
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	else if (pages >= CKPT_PAGES) {
		mtx_lock(&c->mu);
		c->due = true;
		cnd_signal(&c->cv);
		mtx_unlock(&c->mu);
	}
	return SQLITE_OK;
}

void state_ckpt_start(struct state *st)
{
	struct state_ckpt *c = calloc(1, sizeof *c);
	if (!c)
		return; /* keep SQLite's automatic checkpoints */
	if (sqlite3_open_v2(st->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(c->db);
		free(c);
		return;
	}
	sqlite3_busy_timeout(c->db, 1000);
	/* A connection opens the WAL on its first read; until then a checkpoint is a no-op. */
	if (sqlite3_exec(c->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(c->db);
		free(c);
		return;
	}
	if (mtx_init(&c->mu, mtx_plain) != thrd_success || cnd_init(&c->cv) != thrd_success) {
		sqlite3_close(c->db);
		free(c);
		return;
	}
	/* The thread takes no signals: they stay with the threads that expect them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = thrd_create(&c->thread, ckpt_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != thrd_success) {
		cnd_destroy(&c->cv);
		mtx_destroy(&c->mu);
		sqlite3_close(c->db);
		free(c);
		return;
	}
	st->ckpt = c;
	sqlite3_wal_hook(st->db, wal_hook, c); /* replaces the automatic checkpoint */
}

void state_ckpt_stop(struct state *st)
{
	struct state_ckpt *c = st->ckpt;
	if (!c)
		return;
	sqlite3_wal_hook(st->db, NULL, NULL);
	mtx_lock(&c->mu);
	c->stop = true;
	cnd_signal(&c->cv);
	mtx_unlock(&c->mu);
	thrd_join(c->thread, NULL);
	cnd_destroy(&c->cv);
	mtx_destroy(&c->mu);
	sqlite3_close(c->db);
	free(c);
	st->ckpt = NULL;
}
