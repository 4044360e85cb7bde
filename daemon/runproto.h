/* The chored ↔ chored-run protocol (design §2). One runner process serves one run.
 *
 * chored posix_spawns PKGLIBEXECDIR/chored-run with:
 *   fd 0  a pipe carrying ONE JSON document, then EOF. The runner reads the document, applies
 *         the limits, loads the plugin and runs its check(), reads fd 0 to EOF and reopens
 *         it on /dev/null, then calls run(). Only blanks may follow the document. chored
 *         spawns a scheduled run ~100 ms ahead with "release_ns": the runner then waits,
 *         loaded and checked, until CLOCK_REALTIME reaches it (pre-spawn; a setting of the
 *         wall clock meanwhile lets it go at once):
 *         {"plugin": "/usr/lib/chored/exec.so", "job": "nightly", "run_id": "…",
 *          "nominal": 1767225600, "dry_run": false, "at": 1767225600 (or absent),
 *          "release_ns": 1767225600000000000 (or absent: run at once),
 *          "options": {"command": "…", …}      resolved values, this job's only
 *          "redact": ["s3cr3t", …]             secret values to replace by ***
 *          "state": {"cursor": "…", …},       the job's persisted key/value state
 *          "peers": {"JOB": {"key": "…"}},     absent unless the plugin flags an option
 *                                              CHORED_OPT_JOB: the named jobs' state,
 *                                              read-only (chored_state_peer)
 *          "limits": {"memory": BYTES, "cpu": SECONDS, "user": "name"},   each optional:
 *                                              applied by chored-run (setrlimit RLIMIT_AS /
 *                                              RLIMIT_CPU, then initgroups+setgid+setuid)
 *                                              before the plugin is loaded
 *          "notify": [{"name": "ops", "type": "smtp", "policy": "on-failure",
 *                      "keys": {"url": "…", "password": "…", …}}, …]
 *                                              the job's sinks (its `notify`, else
 *                                              [daemon] notify) with resolved keys; their
 *                                              secrets are in "redact" too
 *          "previous_status": "failed" | null  the newest earlier run of the job that ran
 *                                              and ended (skipped and dry runs are not);
 *                                              null when none, or when no sink of the job
 *                                              is on-change (then not looked up)
 *          "state_dir": "/var/lib/chored"}     the state file's directory (the outbox's
 *                                              default home)
 *
 *         A notify-only document (chored's report of what the plugin could not report: a
 *         run that crashed, timed out or never entered run(), a slot missed) has no
 *         "plugin", "options", "state", "peers" nor "limits"; it has "job", "run_id" (""
 *         for a missed slot recorded nowhere), "nominal", "notify", "redact",
 *         "previous_status", "state_dir" and "limits" (only "user": the job's) as above, and
 *          "notify_only": {"status": "crashed",  a run status (crashed, timeout, failed) or
 *                                              "missed"
 *                          "summary": "killed by SIGSEGV",   redacted, may be ""
 *                          "nominal": 1767225600}           the slot (UTC s)
 *         The runner loads no plugin: it keeps the sinks whose policy asks for `status`
 *         (on-failure: always, it is never "ok"; on-change: when it differs from
 *         previous_status; never: no), builds the standard report ("JOB: STATUS", the
 *         summary, the run id and slot, the chorectl command that shows it) and delivers it
 *         to each of them; records "log" lines (per sink: sent, not delivered) and one
 *         "result": ok (every sink got it, or none wanted it), partial, failed. It is not a
 *         run: chored claims no slot for it and records nothing but its log lines in its
 *         own log. chored sends one only for a job with a sink whose policy is not never.
 *   fd 1, fd 2  one pipe: whatever the plugin (or a program it runs) prints; chored reads
 *         it as raw lines for the run's log, redacting secrets itself as well.
 *   fd 3  a pipe of JSON lines, one record each, in order (a record may wait up to 10 ms
 *         to leave with the ones after it: daemon/run_out.h):
 *         {"t":"started","mono_ns":N,"released_ns":R}   plugin run() entered (CLOCK_MONOTONIC);
 *                                                    R: CLOCK_REALTIME when the runner
 *                                                    stopped waiting (release_ns)
 *         {"t":"log","level":6,"msg":"…","fields":{"k":"v"}}
 *         {"t":"progress","done":3,"total":10}
 *         {"t":"counter","name":"pages","delta":1}
 *         {"t":"summary","text":"…"}
 *         {"t":"state","key":"cursor","value":"…"}     value null = delete
 *         {"t":"notified"}                           the plugin called chored_notify (sent
 *                                                    once, before the next record): chored
 *                                                    does not report a later crash or
 *                                                    timeout of this run again
 *         {"t":"result","status":"ok"|"partial"|"failed","summary":"…"}
 * "result" is the last record, and the runner writes nothing on fds 1 and 2 after it (it
 * points them at /dev/null): chored stops watching fd 3 once it has the result and reads
 * its end when the runner has exited (or 100 ms later, whichever comes first), which
 * saves it a wake-up.
 * Secrets are never in argv or the environment. The runner exits 0 after "result"; any
 * other exit (or a signal) without a result is recorded by chored as failed/crashed.
 * SIGTERM asks the plugin to stop (its cancel callback); chored sends SIGKILL after a grace
 * period. The runner is its own process group leader, so both reach programs it started. */
#ifndef CHORED_RUNPROTO_H
#define CHORED_RUNPROTO_H

#define RUNPROTO_FD 3
/* Bytes of one protocol line the daemon accepts; longer lines are cut and marked. */
#define RUNPROTO_MAX_LINE (64 * 1024)

#endif
