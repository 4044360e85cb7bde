# A throwaway PostgreSQL cluster for integration tests (sourced, not run).
#
#   . "$(dirname "$0")/pg_lib.sh"
#   trap 'pg_stop; rm -rf "$tmp"' EXIT     # pg_stop is safe to call twice or unstarted
#   if pg_start; then ... else skip the PostgreSQL cases: "$pg_skip" says why; fi
#
# pg_start creates a cluster in its own temporary directory (owned by the postgres user
# when run as root: initdb refuses root), with its unix socket in that directory, listening
# on 127.0.0.1 on a free port, fsync off. It creates the role "chored" with a random
# password and its database "chored", and exports:
#   PG_URL        postgresql://chored@127.0.0.1:PORT/chored (no password in it)
#   PG_PASSWORD   the role's password (give it to the code under test as a secret)
#   PG_SOCKET_URL postgresql:///chored?host=DIR&port=PORT&user=postgres (trusted, superuser)
#   PG_PORT, PG_DIR
# and defines pg_psql SQL... (runs psql as the superuser over the socket, -At output).
# Returns 1 with $pg_skip set when no PostgreSQL server binaries are installed
# (contrib/dev/deps.sh installs them); any other failure returns 2 with the log printed
# as TAP diagnostics.

pg_bindir=
pg_dir=
pg_skip=

pg_find_bindir() {
	for d in ${CHORED_PG_BINDIR:-} $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/psql" ]; then
			pg_bindir=$d
			return 0
		fi
	done
	return 1
}

# Runs a command as the cluster's owner: postgres when we are root, else ourselves.
pg_as_owner() {
	# From /: the caller's directory may be closed to the postgres user.
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && "$@")
	fi
}

pg_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

pg_psql() {
	pg_as_owner "$pg_bindir/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" \
		-U postgres -d "${PG_DB:-chored}" -c "$*"
}

pg_start() {
	if ! pg_find_bindir; then
		pg_skip="PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin; contrib/dev/deps.sh installs them)"
		return 1
	fi
	if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
		pg_skip="running as root and there is no postgres user to own the cluster"
		return 1
	fi
	pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/chored-pg.XXXXXX") || return 2
	chmod 0755 "$pg_dir"
	[ "$(id -u)" -eq 0 ] && chown postgres "$pg_dir"
	PG_DIR=$pg_dir
	PG_PASSWORD=pw-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	if ! pg_as_owner "$pg_bindir/initdb" -D "$pg_dir/data" -U postgres -E UTF8 --no-sync \
		--locale=C --auth-local=trust --auth-host=scram-sha-256 \
		>"$pg_dir/initdb.log" 2>&1; then
		diag "initdb failed:" "$(cat "$pg_dir/initdb.log")"
		return 2
	fi
	# A free port can be taken between the probe and the bind: try a few.
	tries=0
	while :; do
		PG_PORT=$(pg_free_port)
		if pg_as_owner "$pg_bindir/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
			-t 60 -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $pg_dir \
			-c fsync=off -c synchronous_commit=off -c full_page_writes=off \
			-c max_connections=20 -c shared_buffers=16MB" start >/dev/null 2>&1; then
			break
		fi
		tries=$((tries + 1))
		if [ $tries -ge 3 ]; then
			diag "postgres did not start:" "$(cat "$pg_dir/server.log")"
			return 2
		fi
	done
	export PG_DIR PG_PORT PG_PASSWORD
	PG_DB=postgres pg_psql "CREATE ROLE chored LOGIN PASSWORD '$PG_PASSWORD'" &&
		PG_DB=postgres pg_psql "CREATE DATABASE chored OWNER chored" || return 2
	PG_URL="postgresql://chored@127.0.0.1:$PG_PORT/chored"
	PG_SOCKET_URL="postgresql:///chored?host=$pg_dir&port=$PG_PORT&user=postgres"
	export PG_URL PG_SOCKET_URL
	return 0
}

pg_stop() {
	[ -n "$pg_dir" ] || return 0
	if [ -f "$pg_dir/data/postmaster.pid" ]; then
		pg_as_owner "$pg_bindir/pg_ctl" -D "$pg_dir/data" -m immediate -w stop \
			>/dev/null 2>&1
	fi
	rm -rf "$pg_dir"
	pg_dir=
}
