# Shared by scripts/test and scripts/bench (sourced, not run): a throwaway PostgreSQL server.
#
# The caller defines `log` and `die`, sets the EXIT trap that calls `stop_postgres`, and calls
# `start_postgres [fast|durable]`, which finds the server binaries (PATH, `pg_config
# --bindir`, the newest /usr/lib/postgresql/*/bin), installs the Debian package `postgresql`
# when they are missing and this runs as root, starts a server on a free loopback port in a
# temporary directory (as the `postgres` user when run as root: initdb refuses root) and
# exports ENTITY_TEST_DATABASE_URL. `fast` (the default, for tests) turns fsync,
# synchronous_commit and full_page_writes off; `durable` (benchmarks) keeps PostgreSQL's
# durable defaults and loads pg_stat_statements. `stop_postgres` stops it and removes the
# directory.

PG_BINDIR=""
PG_USER=""   # the user running the server when this script runs as root
PG_TMP=""
PG_PORT=""

pg_bindir_ok() { [[ -x "$1/initdb" && -x "$1/pg_ctl" && -x "$1/postgres" ]]; }

find_pg_bindir() {
    local dir candidates=()
    if dir=$(command -v initdb 2>/dev/null); then
        candidates+=("$(dirname "$dir")")
    fi
    if command -v pg_config >/dev/null 2>&1 && dir=$(pg_config --bindir 2>/dev/null); then
        candidates+=("$dir")
    fi
    shopt -s nullglob
    local versioned=(/usr/lib/postgresql/*/bin)
    shopt -u nullglob
    if ((${#versioned[@]})); then
        while IFS= read -r dir; do candidates+=("$dir"); done \
            < <(printf '%s\n' "${versioned[@]}" | sort -V -r)
    fi
    for dir in "${candidates[@]}"; do
        if pg_bindir_ok "$dir"; then
            printf '%s\n' "$dir"
            return 0
        fi
    done
    return 1
}

install_postgres() {
    [[ $EUID -eq 0 ]] || return 1
    command -v apt-get >/dev/null 2>&1 || return 1
    log "PostgreSQL server binaries not found: installing the Debian package 'postgresql'"
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql
}

# Runs a command as the server's user (only differs from us when we are root).
as_pg() {
    if [[ -z $PG_USER ]]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$PG_USER" -- "$@"
    else
        su -s /bin/sh "$PG_USER" -c "$(printf '%q ' "$@")"
    fi
}

free_port() {
    local port
    if command -v python3 >/dev/null 2>&1 && port=$(python3 -c \
        'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' \
        2>/dev/null) && [[ -n $port ]]; then
        printf '%s\n' "$port"
        return 0
    fi
    for _ in $(seq 100); do
        port=$((20000 + RANDOM % 40000))
        # Nothing listens if the connection is refused.
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    return 1
}

stop_postgres() {
    [[ -n $PG_TMP && -d $PG_TMP ]] || return 0
    if [[ -f $PG_TMP/data/postmaster.pid ]]; then
        if ! as_pg "$PG_BINDIR/pg_ctl" -D "$PG_TMP/data" -m immediate -w -t 30 stop \
            >/dev/null 2>&1; then
            local pid
            pid=$(head -n 1 "$PG_TMP/data/postmaster.pid" 2>/dev/null || true)
            [[ $pid =~ ^[0-9]+$ ]] && kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -rf "$PG_TMP"
    PG_TMP=""
}

start_postgres() {
    local mode=${1:-fast}
    PG_BINDIR=$(find_pg_bindir) || {
        install_postgres || true
        PG_BINDIR=$(find_pg_bindir) || die "PostgreSQL server binaries (initdb, pg_ctl, postgres) \
not found. Install PostgreSQL (Debian/Ubuntu: apt-get install postgresql; or run this script \
as root to have it installed), or set ENTITY_TEST_DATABASE_URL to the admin URL of a server."
    }
    log "using PostgreSQL from $PG_BINDIR ($("$PG_BINDIR/postgres" --version))"

    local parent=${TMPDIR:-/tmp}
    if [[ $EUID -eq 0 ]]; then
        parent=/tmp # must be reachable by the server's user
        if id -u postgres >/dev/null 2>&1; then
            PG_USER=postgres
        else
            PG_USER=entity-test-pg
            if ! id -u "$PG_USER" >/dev/null 2>&1; then
                log "creating system user $PG_USER to run PostgreSQL (initdb refuses root)"
                useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER"
            fi
        fi
    fi
    PG_TMP=$(mktemp -d "$parent/entity-test-pg.XXXXXX")
    [[ -z $PG_USER ]] || chown "$PG_USER" "$PG_TMP"
    cd "$PG_TMP" # initdb wants a working directory its user can read
    as_pg "$PG_BINDIR/initdb" -D "$PG_TMP/data" -U postgres --auth=trust --encoding=UTF8 \
        --no-locale --no-sync >"$PG_TMP/initdb.log" 2>&1 || {
        cat "$PG_TMP/initdb.log" >&2
        die "initdb failed"
    }
    cat >>"$PG_TMP/data/postgresql.conf" <<EOF

# scripts/lib/pg.sh: a throwaway server ($mode).
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_TMP'
max_connections = 400
EOF
    case $mode in
    fast)
        cat >>"$PG_TMP/data/postgresql.conf" <<EOF
# Tests: fast and unsafe.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
        ;;
    durable)
        cat >>"$PG_TMP/data/postgresql.conf" <<EOF
# Benchmarks: PostgreSQL's durable defaults (fsync, synchronous_commit, full_page_writes on).
shared_preload_libraries = 'pg_stat_statements'
EOF
        ;;
    *) die "start_postgres: unknown mode $mode (fast or durable)" ;;
    esac
    local attempt
    for attempt in 1 2 3; do
        PG_PORT=$(free_port) || die "no free TCP port found on 127.0.0.1"
        if as_pg "$PG_BINDIR/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/postgres.log" \
            -o "-p $PG_PORT" -w -t 60 start >/dev/null; then
            break
        fi
        log "PostgreSQL did not start on port $PG_PORT (attempt $attempt of 3)"
        PG_PORT=""
    done
    if [[ -z $PG_PORT ]]; then
        tail -n 30 "$PG_TMP/postgres.log" >&2 || true
        die "PostgreSQL did not start (log above)"
    fi
    cd - >/dev/null

    local ready=""
    local isready="$PG_BINDIR/pg_isready"
    [[ -x $isready ]] || isready=$(command -v pg_isready || true)
    for _ in $(seq 60); do
        if [[ -z $isready ]] || "$isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres; then
            ready=1
            break
        fi
        sleep 0.5
    done
    [[ -n $ready ]] || die "PostgreSQL on port $PG_PORT is not ready after 30 s"
    export ENTITY_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
    log "PostgreSQL is up: ENTITY_TEST_DATABASE_URL=$ENTITY_TEST_DATABASE_URL"
}
