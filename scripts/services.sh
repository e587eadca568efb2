#!/usr/bin/env bash
# Brings up, idempotently, what the main job and the tests need on a Debian machine:
#   - a Docker engine (Debian's docker.io) with no bridge and no private-range network, ever;
#     an engine already reachable through DOCKER_HOST (or the default socket) is used instead;
#   - a second, independent engine for the tests that build on two engines (own socket, data root,
#     exec root and containerd namespace); one already reachable through DOCKER_HOST_2 (or its
#     socket, SERVICES_ENGINE2_SOCKET) is used instead;
#   - Debian's docker-registry on 127.0.0.1, with token authentication against the orchestrator;
#   - a local base image built FROM scratch with the static busybox (nothing can be pulled here);
#   - a PostgreSQL cluster of Debian's postgresql-15 under the services dir, on 127.0.0.1:5433, run by
#     the postgres user, with a role and the databases the read-store tests and READ_STORE_URL use.
# Usage: scripts/services.sh up|down|status [postgres]. `down` stops only what `up` started;
# naming `postgres` limits the command to PostgreSQL (the read-store tests need nothing else).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE_DIR="${SERVICES_DIR:-$ROOT/.services}"
ENGINE_SOCKET="${SERVICES_ENGINE_SOCKET:-/var/run/docker.sock}"
ENGINE2_SOCKET="${SERVICES_ENGINE2_SOCKET:-/var/run/bo-engine2.sock}"
ENGINE2_DATA_ROOT="${SERVICES_ENGINE2_DATA_ROOT:-/var/lib/bo-engine2}"
ENGINE2_EXEC_ROOT="${SERVICES_ENGINE2_EXEC_ROOT:-/var/run/bo-engine2}"
REGISTRY_ADDR="${REGISTRY_ADDR:-127.0.0.1:5000}"
ORCHESTRATOR_URL="${ORCHESTRATOR_URL:-http://127.0.0.1:${PORT:-3000}}"
REGISTRY_SERVICE="${REGISTRY_SERVICE:-build-orchestrator-registry}"
REGISTRY_TOKEN_ISSUER="${REGISTRY_TOKEN_ISSUER:-build-orchestrator}"
BASE_IMAGE="${BASE_IMAGE:-local/busybox:latest}"
PG_PORT="${SERVICES_PG_PORT:-5433}"
PG_DIR="$STATE_DIR/postgres"
PG_ROLE=build_orchestrator
# A known password for a role that can only log in over loopback: tests and examples name it.
PG_PASSWORD=build_orchestrator
PG_DATABASES=(build_orchestrator build_orchestrator_test)

log() { printf 'services: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

need_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  [ -x /bin/busybox ] && file_is_static /bin/busybox || missing+=(busybox-static)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v git >/dev/null || missing+=(git)
  command -v curl >/dev/null || missing+=(curl)
  # The dashboard tests drive Debian's chromium through playwright-core (test/dashboard.e2e-spec.ts).
  command -v chromium >/dev/null || missing+=(chromium)
  pg_packages_missing && missing+=(postgresql-15)
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing ${missing[*]}: install them (apt-get install ${missing[*]}) or run as root"
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

file_is_static() { ! ldd "$1" >/dev/null 2>&1; }

engine_answers() { docker ${1:+--host "$1"} version --format '{{.Server.Version}}' >/dev/null 2>&1; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# ---------------------------------------------------------------- engines
bridges() { ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | sort; }

# Never let a bridge in a private range exist on this machine: remove docker0 and any bridge that
# appeared while a dockerd of ours started (bridges that existed before are someone else's).
forbid_new_bridges() {
  local before="$1" name new=()
  while read -r name; do [ -n "$name" ] && new+=("$name"); done < <(comm -13 <(echo "$before") <(bridges))
  if ip link show docker0 >/dev/null 2>&1 && [[ " ${new[*]} " != *" docker0 "* ]]; then new+=(docker0); fi
  [ ${#new[@]} -eq 0 ] && return
  for name in "${new[@]}"; do ip link delete "$name" || true; done
  die "bridge(s) ${new[*]} appeared and were removed; check dockerd flags"
}

# start_dockerd NAME SOCKET [more dockerd flags]: starts a dockerd of ours (pidfile, log and marker
# NAME.* in STATE_DIR) with no bridge and no iptables, and waits until it answers.
start_dockerd() {
  local name="$1" socket="$2"; shift 2
  mkdir -p "$STATE_DIR"
  local before; before="$(bridges)"
  log "starting $name on $socket (no bridge, no iptables)"
  nohup dockerd --host "unix://$socket" --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
    --ip6tables=false --pidfile "$STATE_DIR/$name.pid" "$@" >"$STATE_DIR/$name.log" 2>&1 &
  echo "$socket" >"$STATE_DIR/$name.ours"
  local try
  for try in $(seq 1 60); do
    engine_answers "unix://$socket" && break
    # The pidfile appears a moment after start; a missing process later means dockerd gave up.
    pid_alive "$STATE_DIR/$name.pid" || [ "$try" -lt 6 ] || die "$name exited: $(tail -5 "$STATE_DIR/$name.log")"
    sleep 0.5
  done
  engine_answers "unix://$socket" || die "$name did not answer within 30 s: $(tail -5 "$STATE_DIR/$name.log")"
  forbid_new_bridges "$before"
}

# use_or_start_engine NAME HOST_VARIABLE SOCKET [more dockerd flags]: an engine named by the
# variable (DOCKER_HOST, DOCKER_HOST_2) or already answering on SOCKET is used as it is.
use_or_start_engine() {
  local name="$1" variable="$2" socket="$3"; shift 3
  local host="${!variable:-}"
  if [ -n "$host" ]; then
    engine_answers "$host" || die "$variable=$host is set but no engine answers there"
    log "using the engine at $variable=$host"
    return
  fi
  if engine_answers "unix://$socket"; then
    log "using the engine already answering on $socket"
    return
  fi
  start_dockerd "$name" "$socket" "$@"
}

engine_up() { use_or_start_engine dockerd DOCKER_HOST "$ENGINE_SOCKET"; }

# Its own data root, exec root (and so its own supervised containerd) and containerd namespaces:
# nothing is shared with engine 1, even if a system containerd appears later. Engine 20.10 derives
# its ID (docker info) from /etc/docker/key.json unless told otherwise: engine 2 gets a key of its
# own (a daemon.json setting; there is no flag for it) so that the two engines have different IDs.
engine2_up() {
  mkdir -p "$STATE_DIR" "$ENGINE2_DATA_ROOT" "$ENGINE2_EXEC_ROOT"
  printf '{ "deprecated-key-path": "%s" }\n' "$ENGINE2_DATA_ROOT/key.json" >"$STATE_DIR/dockerd2.json"
  use_or_start_engine dockerd2 DOCKER_HOST_2 "$ENGINE2_SOCKET" \
    --data-root "$ENGINE2_DATA_ROOT" --exec-root "$ENGINE2_EXEC_ROOT" --config-file "$STATE_DIR/dockerd2.json" \
    --containerd-namespace bo-engine2 --containerd-plugins-namespace bo-engine2-plugins
}

engine_host() { echo "${DOCKER_HOST:-unix://$ENGINE_SOCKET}"; }
engine2_host() { echo "${DOCKER_HOST_2:-unix://$ENGINE2_SOCKET}"; }

# ---------------------------------------------------------------- registry
registry_config() {
  local dir="$STATE_DIR/registry"
  mkdir -p "$dir/data"
  if [ ! -f "$dir/token.key" ]; then
    log "creating the token signing key and certificate"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/CN=$REGISTRY_TOKEN_ISSUER token signer" \
      -keyout "$dir/token.key" -out "$dir/token.crt" >/dev/null 2>&1
    chmod 600 "$dir/token.key"
  fi
  cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  token:
    realm: $ORCHESTRATOR_URL/registry/token
    service: $REGISTRY_SERVICE
    issuer: $REGISTRY_TOKEN_ISSUER
    rootcertbundle: $dir/token.crt
YAML
}

registry_answers() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$REGISTRY_ADDR/v2/" 2>/dev/null)" = 401 ]; }

registry_up() {
  registry_config
  if registry_answers; then
    pid_alive "$STATE_DIR/registry.pid" && return
    log "a registry already answers on $REGISTRY_ADDR (not started by this script)"
    return
  fi
  log "starting docker-registry on $REGISTRY_ADDR (token auth, realm $ORCHESTRATOR_URL/registry/token)"
  nohup docker-registry serve "$STATE_DIR/registry/config.yml" >"$STATE_DIR/registry.log" 2>&1 &
  echo $! >"$STATE_DIR/registry.pid"
  for _ in $(seq 1 40); do registry_answers && return; sleep 0.25; done
  die "the registry did not answer on $REGISTRY_ADDR: $(tail -5 "$STATE_DIR/registry.log")"
}

# ---------------------------------------------------------------- base image
# base_image_up HOST: builds the base image on the engine at HOST unless it is there already.
base_image_up() {
  local host="$1"
  if docker --host "$host" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then return; fi
  log "building $BASE_IMAGE on $host from scratch with the static busybox"
  local context; context="$(mktemp -d)"
  cp /bin/busybox "$context/busybox"
  printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\nCMD ["/bin/sh"]\n' >"$context/Dockerfile"
  # The legacy builder's deprecation notice is noise; its output is shown only if the build fails.
  local output
  output="$(DOCKER_BUILDKIT=0 docker --host "$host" build --network none -q -t "$BASE_IMAGE" "$context" 2>&1)" || {
    rm -rf "$context"
    die "building $BASE_IMAGE on $host failed: $output"
  }
  rm -rf "$context"
}

# ---------------------------------------------------------------- postgres
# Debian's server binaries live outside PATH, one directory per major version: take the newest.
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
pg_packages_missing() { [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ]; }

# PostgreSQL refuses to run as root: as root, its commands run as the postgres user (made by the package).
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_answers() { "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" >/dev/null 2>&1; }
pg_ours() { [ -f "$STATE_DIR/postgres.ours" ] && pid_alive_first_line "$PG_DIR/data/postmaster.pid"; }
pid_alive_first_line() { [ -f "$1" ] && kill -0 "$(head -1 "$1")" 2>/dev/null; }

# Superuser statements over the cluster's own socket (trust for the local socket, which only the
# postgres user can reach: its directory is private).
pg_admin() { as_pg "$(pg_bin)/psql" -q -X -v ON_ERROR_STOP=1 -h "$PG_DIR/run" -p "$PG_PORT" -U postgres -d postgres -tA "$@"; }

pg_config() {
  cat >"$PG_DIR/data/services.conf" <<CONF
# Written by scripts/services.sh up; read through the include at the end of postgresql.conf.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DIR/run'
max_connections = 200
shared_buffers = 256MB
# Fewer forced checkpoints during a rebuild of a million events.
max_wal_size = 4GB
CONF
  grep -q "^include_if_exists = 'services.conf'" "$PG_DIR/data/postgresql.conf" ||
    echo "include_if_exists = 'services.conf'" >>"$PG_DIR/data/postgresql.conf"
}

pg_roles_and_databases() {
  local db
  if [ "$(pg_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$PG_ROLE'")" != 1 ]; then
    log "creating the PostgreSQL role $PG_ROLE"
    pg_admin -c "CREATE ROLE $PG_ROLE LOGIN PASSWORD '$PG_PASSWORD'"
  fi
  for db in "${PG_DATABASES[@]}"; do
    if [ "$(pg_admin -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
      log "creating the PostgreSQL database $db"
      pg_admin -c "CREATE DATABASE $db OWNER $PG_ROLE"
    fi
  done
}

# PostgreSQL's files must be reachable by the postgres user: a checkout under a private home
# directory (/root) is not, so the cluster then lives under /var/lib/postgresql instead.
pg_choose_dir() {
  [ "$(id -u)" = 0 ] || return 0
  [ -f "$STATE_DIR/postgres.dir" ] && { PG_DIR="$(cat "$STATE_DIR/postgres.dir")"; return 0; }
  mkdir -p "$PG_DIR" && chown postgres: "$PG_DIR"
  if ! runuser -u postgres -- test -w "$PG_DIR"; then
    PG_DIR="/var/lib/postgresql/build-orchestrator-$(printf '%s' "$ROOT" | md5sum | cut -c1-8)"
    log "the postgres user cannot reach $STATE_DIR; the cluster lives in $PG_DIR"
    mkdir -p "$PG_DIR" && chown postgres: "$PG_DIR"
  fi
  echo "$PG_DIR" >"$STATE_DIR/postgres.dir"
}

postgres_up() {
  mkdir -p "$STATE_DIR"
  pg_choose_dir
  if pg_answers; then
    if pg_ours; then pg_roles_and_databases; return; fi
    log "a PostgreSQL already answers on 127.0.0.1:$PG_PORT (not started by this script); TEST_READ_STORE_URL must name a database there"
    return
  fi
  [ "$(id -u)" = 0 ] || mkdir -p "$PG_DIR"
  as_pg mkdir -p -m 700 "$PG_DIR/run"
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    log "creating a PostgreSQL cluster in $PG_DIR/data"
    as_pg "$(pg_bin)/initdb" -D "$PG_DIR/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1 || die "initdb failed: $(tail -5 "$PG_DIR/initdb.log")"
  fi
  pg_config
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  echo "$PG_DIR/data" >"$STATE_DIR/postgres.ours"
  # -w: pg_ctl itself waits until the server accepts connections (or gives up after -t seconds).
  as_pg "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 start >/dev/null ||
    die "PostgreSQL did not start: $(tail -5 "$PG_DIR/postgres.log")"
  pg_roles_and_databases
}

postgres_down() {
  [ -f "$STATE_DIR/postgres.ours" ] || return 0
  [ -f "$STATE_DIR/postgres.dir" ] && PG_DIR="$(cat "$STATE_DIR/postgres.dir")"
  if pid_alive_first_line "$PG_DIR/data/postmaster.pid"; then
    log "stopping PostgreSQL"
    as_pg "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null
  fi
  rm -f "$STATE_DIR/postgres.ours"
}

postgres_status() {
  [ -f "$STATE_DIR/postgres.dir" ] && PG_DIR="$(cat "$STATE_DIR/postgres.dir")"
  local url="postgres://$PG_ROLE:$PG_PASSWORD@127.0.0.1:$PG_PORT"
  if pg_answers; then
    local owner="external"; pg_ours && owner="started by services.sh"
    line postgres "up (127.0.0.1:$PG_PORT, $owner; tests: $url/build_orchestrator_test, apps: READ_STORE_URL=$url/build_orchestrator)"
  else
    line postgres "down (127.0.0.1:$PG_PORT)"
  fi
}

# ---------------------------------------------------------------- commands
stop_pidfile() {
  local file="$1" name="$2"
  if pid_alive "$file"; then
    log "stopping $name"
    kill "$(cat "$file")"
    for _ in $(seq 1 40); do pid_alive "$file" || break; sleep 0.25; done
    pid_alive "$file" && kill -9 "$(cat "$file")" 2>/dev/null || true
  fi
  rm -f "$file"
}

up() {
  need_packages
  engine_up
  engine2_up
  registry_up
  postgres_up
  base_image_up "$(engine_host)"
  base_image_up "$(engine2_host)"
  status
}

# stop_engine NAME: stops the dockerd NAME only if `up` started it.
stop_engine() {
  local name="$1"
  [ -f "$STATE_DIR/$name.ours" ] || return 0
  stop_pidfile "$STATE_DIR/$name.pid" "$name"
  rm -f "$STATE_DIR/$name.ours"
}

down() {
  postgres_down
  stop_pidfile "$STATE_DIR/registry.pid" "docker-registry"
  stop_engine dockerd2
  stop_engine dockerd
}

line() { printf '%-15s %s\n' "$1:" "$2"; }

# engine_status LABEL IMAGE_LABEL NAME HOST: one line on the engine and one on its base image.
engine_status() {
  local label="$1" image_label="$2" name="$3" host="$4"
  if engine_answers "$host"; then
    local owner="external"; [ -f "$STATE_DIR/$name.ours" ] && pid_alive "$STATE_DIR/$name.pid" && owner="started by services.sh"
    line "$label" "up ($host, $(docker --host "$host" version --format '{{.Server.Version}}'), $owner)"
  else
    line "$label" "down ($host)"
  fi
  if docker --host "$host" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then line "$image_label" "$BASE_IMAGE"; else line "$image_label" "missing ($BASE_IMAGE)"; fi
}

status() {
  engine_status engine "base image" dockerd "$(engine_host)"
  engine_status "engine 2" "base image 2" dockerd2 "$(engine2_host)"
  if registry_answers; then line registry "up (http://$REGISTRY_ADDR, token realm $ORCHESTRATOR_URL/registry/token)"; else line registry "down ($REGISTRY_ADDR)"; fi
  line "token key" "$STATE_DIR/registry/token.key"
  postgres_status
}

# postgres_only COMMAND: `up postgres` needs only the package, not the engines or the registry.
postgres_only() {
  case "$1" in
    up) pg_packages_missing && need_packages; postgres_up; postgres_status ;;
    down) postgres_down ;;
    status) postgres_status ;;
  esac
}

case "${1:-}:${2:-}" in
  up: | down: | status:) "$1" ;;
  up:postgres | down:postgres | status:postgres) postgres_only "$1" ;;
  *) echo "usage: $0 up|down|status [postgres]" >&2; exit 2 ;;
esac
