/* The reading half of a run (daemon/runner.h): fd 1+2 as raw lines for the run's log, fd 3 as
 * JSON-lines protocol records (daemon/runproto.h). Lines are the unit of redaction; a line
 * longer than RUNPROTO_MAX_LINE is cut and marked, the rest of it discarded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <json-c/json.h>

#include "runproto.h"
#include "spawn_int.h"

#define TRUNCATED_MARK " [line truncated]"
/* Bytes of an offending line quoted in a "[protocol] bad record" message. */
#define BAD_EXCERPT 200

/* Where to cut s[0..len) at n: n, or a little less so as not to split a UTF-8 sequence
 * (at most 3 bytes back: text that is not UTF-8 is cut at n). */
static size_t utf8_floor(const char *s, size_t n, size_t len)
{
	if (n >= len)
		return len;
	for (size_t m = n; m > 0 && n - m < 4; m--)
		if (((unsigned char)s[m] & 0xC0) != 0x80)
			return m;
	return n;
}

bool spawn_emit_output(struct runner *r, const char *line, size_t n, bool truncated)
{
	if (!r->cbs.output)
		return true;
	if (truncated)
		n = spawn_redact_tail(r->redact, line, n);
	bool changed;
	char *red = spawn_redact(r->redact, line, n, &changed);
	if (changed && !red)
		return true; /* out of memory: drop the line rather than leak a secret */
	const char *text = red ? red : line;
	size_t tn = red ? strlen(red) : n;
	char *msg = malloc(tn + sizeof TRUNCATED_MARK);
	if (!msg) {
		free(red);
		return true;
	}
	memcpy(msg, text, tn);
	msg[tn] = '\0';
	if (truncated)
		memcpy(msg + tn, TRUNCATED_MARK, sizeof TRUNCATED_MARK);
	free(red);
	spawn_user_begin(r);
	r->cbs.output(r->data, msg);
	free(msg);
	return spawn_user_end(r);
}

/* Reports a protocol line that is not a record the daemon understands. */
static bool bad_record(struct runner *r, const char *why, const char *line, size_t n)
{
	char head[64 + BAD_EXCERPT];
	bool cut = n > BAD_EXCERPT;
	size_t m = utf8_floor(line, BAD_EXCERPT, n);
	int hn = snprintf(head, sizeof head, "[protocol] bad record: %s: ", why);
	if (hn < 0 || (size_t)hn + m >= sizeof head)
		return true;
	memcpy(head + hn, line, m);
	return spawn_emit_output(r, head, (size_t)hn + m, cut);
}

/* Replaces secrets in every string below o (keys are left alone). Returns -1 on no memory. */
static int redact_json(struct runner *r, struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_string: {
		bool changed;
		char *red = spawn_redact(r->redact, json_object_get_string(o),
		                         (size_t)json_object_get_string_len(o), &changed);
		if (!changed)
			return 0;
		bool set = red && json_object_set_string(o, red); /* returns 1 on success */
		free(red);
		return set ? 0 : -1;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (redact_json(r, json_object_array_get_idx(o, i)) != 0)
				return -1;
		return 0;
	case json_type_object: {
		json_object_object_foreach(o, key, val)
		{
			(void)key;
			if (redact_json(r, val) != 0)
				return -1;
		}
		return 0;
	}
	default:
		return 0;
	}
}

static bool on_started(struct runner *r, struct json_object *rec, const char *line, size_t n)
{
	struct json_object *v;
	if (!json_object_object_get_ex(rec, "mono_ns", &v) ||
	    !json_object_is_type(v, json_type_int))
		return bad_record(r, "\"started\" without an integer mono_ns", line, n);
	if (!r->cbs.started)
		return true;
	struct json_object *rel;
	int64_t released_ns = json_object_object_get_ex(rec, "released_ns", &rel) &&
	                              json_object_is_type(rel, json_type_int)
	                          ? json_object_get_int64(rel)
	                          : 0;
	spawn_user_begin(r);
	r->cbs.started(r->data, json_object_get_int64(v), released_ns);
	return spawn_user_end(r);
}

static bool on_result(struct runner *r, struct json_object *rec, const char *line, size_t n)
{
	struct json_object *v;
	const char *st =
	    json_object_object_get_ex(rec, "status", &v) && json_object_is_type(v, json_type_string)
	        ? json_object_get_string(v)
	        : "";
	enum run_status status;
	if (strcmp(st, "ok") == 0)
		status = RUN_OK;
	else if (strcmp(st, "partial") == 0)
		status = RUN_PARTIAL;
	else if (strcmp(st, "failed") == 0)
		status = RUN_FAILED;
	else
		return bad_record(r, "\"result\" status is not ok, partial or failed", line, n);
	const char *summary = NULL;
	if (json_object_object_get_ex(rec, "summary", &v)) {
		if (!json_object_is_type(v, json_type_string))
			return bad_record(r, "\"result\" summary is not a string", line, n);
		summary = json_object_get_string(v); /* already redacted */
	}
	if (r->have_result)
		return bad_record(r, "second \"result\"", line, n);
	r->result_seen = true;
	/* After a timeout or a cancel, the outcome is that, whatever the plugin says. */
	if (r->stop != SPAWN_STOP_NONE)
		return true;
	r->have_result = true;
	r->result_status = status;
	free(r->result_summary);
	r->result_summary = summary ? strdup(summary) : NULL;
	return true;
}

static bool on_record(struct runner *r, const char *line, size_t n)
{
	struct json_tokener *tok = r->proto.tok;
	json_tokener_reset(tok);
	struct json_object *rec = json_tokener_parse_ex(tok, line, (int)n);
	size_t end = json_tokener_get_parse_end(tok);
	if (!rec || json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(rec);
		return bad_record(r, "not JSON", line, n);
	}
	while (end < n && (line[end] == ' ' || line[end] == '\t' || line[end] == '\r'))
		end++;
	bool ok = true;
	struct json_object *t;
	if (end != n)
		ok = bad_record(r, "text after the record", line, n);
	else if (!json_object_is_type(rec, json_type_object))
		ok = bad_record(r, "not a JSON object", line, n);
	else if (!json_object_object_get_ex(rec, "t", &t) ||
	         !json_object_is_type(t, json_type_string))
		ok = bad_record(r, "no string member \"t\"", line, n);
	else {
		const char *type = json_object_get_string(t);
		/* "state" is the plugin's own data, stored as given; the rest may reach a log. */
		if (strcmp(type, "state") != 0 && redact_json(r, rec) != 0)
			; /* out of memory: drop the record rather than leak a secret */
		else if (strcmp(type, "started") == 0)
			ok = on_started(r, rec, line, n);
		else if (strcmp(type, "result") == 0)
			ok = on_result(r, rec, line, n);
		else if (r->cbs.record) {
			spawn_user_begin(r);
			r->cbs.record(r->data, rec);
			ok = spawn_user_end(r);
		}
	}
	json_object_put(rec);
	return ok;
}

/* One complete line of s, without its "\n". Returns false if the runner was freed. */
static bool handle_line(struct spawn_stream *s, const char *line, size_t n, bool truncated)
{
	if (n > RUNPROTO_MAX_LINE) {
		n = utf8_floor(line, RUNPROTO_MAX_LINE, n);
		truncated = true;
	}
	if (!s->proto) {
		if (!truncated && n > 0 && line[n - 1] == '\r')
			n--; /* CRLF output: the "\r" is part of the line end */
		return spawn_emit_output(s->r, line, n, truncated);
	}
	if (truncated) {
		char why[64];
		snprintf(why, sizeof why, "line longer than %d bytes", RUNPROTO_MAX_LINE);
		return bad_record(s->r, why, line, n);
	}
	return on_record(s->r, line, n);
}

/* Consumes every complete line of s's input. Returns false if the runner was freed. */
static bool drain_lines(struct spawn_stream *s, struct evbuffer *in)
{
	for (;;) {
		if (s->skipping) {
			struct evbuffer_ptr p =
			    evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
			if (p.pos < 0) {
				evbuffer_drain(in, evbuffer_get_length(in));
				return true;
			}
			evbuffer_drain(in, (size_t)p.pos + 1);
			s->skipping = false;
		}
		size_t n;
		char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);
		bool truncated = false;
		if (!line) {
			if (evbuffer_get_length(in) <= RUNPROTO_MAX_LINE)
				return true;
			/* No end in sight: keep the head, skip the rest of this line. One byte
			 * more than the head tells whether the cut splits a UTF-8 sequence. */
			line = malloc(RUNPROTO_MAX_LINE + 1);
			if (!line)
				return true;
			evbuffer_remove(in, line, RUNPROTO_MAX_LINE + 1);
			n = utf8_floor(line, RUNPROTO_MAX_LINE, RUNPROTO_MAX_LINE + 1);
			line[n] = '\0';
			s->skipping = true;
			truncated = true;
		}
		bool alive = handle_line(s, line, n, truncated);
		free(line);
		if (!alive)
			return false;
	}
}

/* How long after the result the pipes may go unwatched before the exit. */
#define RESUME_MS 100

void spawn_proto_watch(struct runner *r, bool on)
{
	if (on) {
		event_del(r->ev_resume);
	} else {
		struct timeval tv = {0, RESUME_MS * 1000};
		evtimer_add(r->ev_resume, &tv);
	}
	if (r->proto.bev) {
		if (on)
			bufferevent_enable(r->proto.bev, EV_READ);
		else
			bufferevent_disable(r->proto.bev, EV_READ);
	}
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct spawn_stream *s = arg;
	struct runner *r = s->r;
	/* After the result the runner only exits (runproto.h): the protocol pipe's EOF would
	 * wake the loop once more; the exit's wake-up collects it instead. The output pipe
	 * stays watched: a plugin's children may still write there. */
	if (drain_lines(s, bufferevent_get_input(bev)) && s->proto && r->result_seen && !r->reaped)
		spawn_proto_watch(r, false);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		struct spawn_stream *s = arg;
		struct runner *r = s->r;
		if (spawn_stream_close(s, true))
			spawn_stream_ended(r);
	}
}

bool spawn_stream_poll(struct spawn_stream *s)
{
	/* A few reads at most: the last lines and then the EOF behind them. */
	for (int i = 0; i < 4 && s->bev; i++) {
		struct evbuffer *in = bufferevent_get_input(s->bev);
		int fd = bufferevent_getfd(s->bev), avail = 0;
		char c;
		ssize_t n;
		if (ioctl(fd, FIONREAD, &avail) == 0 && avail == 0) {
			/* Most often only the EOF is left: find it without evbuffer_read, which
			 * would allocate (and fault in) a buffer chain first. */
			n = read(fd, &c, 1);
		} else {
			/* A socket bufferevent keeps the end of its input frozen outside its own
			 * read callback (evbuffer_read would refuse): thaw it, as that does. */
			evbuffer_unfreeze(in, 0);
			n = evbuffer_read(in, fd, -1);
			evbuffer_freeze(in, 0);
			avail = -1;
		}
		if (n < 0)
			return true; /* nothing yet (EAGAIN); an error is the bufferevent's */
		if (n == 0)
			return spawn_stream_close(s, true);
		if (avail == 0) { /* one byte came after all */
			evbuffer_unfreeze(in, 0);
			evbuffer_add(in, &c, 1);
			evbuffer_freeze(in, 0);
		}
		if (!drain_lines(s, in))
			return false;
	}
	return true;
}

int spawn_stream_open(struct runner *r, struct spawn_stream *s, int fd, bool proto)
{
	s->r = r;
	s->proto = proto;
	s->skipping = false;
	if (proto && !(s->tok = json_tokener_new())) {
		evutil_closesocket(fd);
		return -1;
	}
	if (!(s->bev = bufferevent_socket_new(r->base, fd, BEV_OPT_CLOSE_ON_FREE))) {
		evutil_closesocket(fd);
		return -1;
	}
	bufferevent_setcb(s->bev, on_read, NULL, on_event, s);
	return bufferevent_enable(s->bev, EV_READ);
}

bool spawn_stream_close(struct spawn_stream *s, bool flush)
{
	if (!s->bev)
		return true;
	struct bufferevent *bev = s->bev;
	struct evbuffer *in = bufferevent_get_input(bev);
	bool alive = true;
	if (flush) {
		alive = drain_lines(s, in);
		/* The last line had no "\n": still a line. */
		size_t n = evbuffer_get_length(in);
		if (alive && n > 0 && !s->skipping) {
			char *line = malloc(n + 1);
			if (line) {
				evbuffer_remove(in, line, n);
				line[n] = '\0';
				alive = handle_line(s, line, n, false);
				free(line);
			}
		}
	}
	if (!alive)
		return false; /* the runner, this stream included, is gone */
	s->bev = NULL;
	bufferevent_free(bev);
	if (s->tok) {
		json_tokener_free(s->tok);
		s->tok = NULL;
	}
	return true;
}
