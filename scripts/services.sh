#!/usr/bin/env bash
# Brings up, idempotently, what the main job and the tests need on a Debian machine:
#   - a Docker engine (Debian's docker.io) with no bridge and no private-range network, ever;
#     an engine already reachable through DOCKER_HOST (or the default socket) is used instead;
#   - Debian's docker-registry on 127.0.0.1, with token authentication against the orchestrator;
#   - a local base image built FROM scratch with the static busybox (nothing can be pulled here).
# Usage: scripts/services.sh up|down|status. `down` stops only what `up` started.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE_DIR="${SERVICES_DIR:-$ROOT/.services}"
ENGINE_SOCKET="${SERVICES_ENGINE_SOCKET:-/var/run/docker.sock}"
REGISTRY_ADDR="${REGISTRY_ADDR:-127.0.0.1:5000}"
ORCHESTRATOR_URL="${ORCHESTRATOR_URL:-http://127.0.0.1:${PORT:-3000}}"
REGISTRY_SERVICE="${REGISTRY_SERVICE:-build-orchestrator-registry}"
REGISTRY_TOKEN_ISSUER="${REGISTRY_TOKEN_ISSUER:-build-orchestrator}"
BASE_IMAGE="${BASE_IMAGE:-local/busybox:latest}"

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

# ---------------------------------------------------------------- engine
engine_up() {
  if [ -n "${DOCKER_HOST:-}" ]; then
    engine_answers "$DOCKER_HOST" || die "DOCKER_HOST=$DOCKER_HOST is set but no engine answers there"
    log "using the engine at DOCKER_HOST=$DOCKER_HOST"
    return
  fi
  if engine_answers "unix://$ENGINE_SOCKET"; then
    log "using the engine already answering on $ENGINE_SOCKET"
    return
  fi
  mkdir -p "$STATE_DIR"
  log "starting dockerd on $ENGINE_SOCKET (no bridge, no iptables)"
  nohup dockerd --host "unix://$ENGINE_SOCKET" --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
    --ip6tables=false --pidfile "$STATE_DIR/dockerd.pid" >"$STATE_DIR/dockerd.log" 2>&1 &
  echo "$ENGINE_SOCKET" >"$STATE_DIR/dockerd.ours"
  local try
  for try in $(seq 1 60); do
    engine_answers "unix://$ENGINE_SOCKET" && break
    # The pidfile appears a moment after start; a missing process later means dockerd gave up.
    pid_alive "$STATE_DIR/dockerd.pid" || [ "$try" -lt 6 ] || die "dockerd exited: $(tail -5 "$STATE_DIR/dockerd.log")"
    sleep 0.5
  done
  engine_answers "unix://$ENGINE_SOCKET" || die "dockerd did not answer within 30 s: $(tail -5 "$STATE_DIR/dockerd.log")"
  # Never let a bridge in a private range exist on this machine.
  if ip link show docker0 >/dev/null 2>&1; then ip link delete docker0; die "docker0 appeared and was removed; check dockerd flags"; fi
}

engine_host() { echo "${DOCKER_HOST:-unix://$ENGINE_SOCKET}"; }

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
base_image_up() {
  local host; host="$(engine_host)"
  if docker --host "$host" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then return; fi
  log "building $BASE_IMAGE from scratch with the static busybox"
  local context; context="$(mktemp -d)"
  cp /bin/busybox "$context/busybox"
  printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\nCMD ["/bin/sh"]\n' >"$context/Dockerfile"
  DOCKER_BUILDKIT=0 docker --host "$host" build --network none -q -t "$BASE_IMAGE" "$context" >/dev/null
  rm -rf "$context"
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
  registry_up
  base_image_up
  status
}

down() {
  stop_pidfile "$STATE_DIR/registry.pid" "docker-registry"
  if [ -f "$STATE_DIR/dockerd.ours" ]; then
    stop_pidfile "$STATE_DIR/dockerd.pid" "dockerd"
    rm -f "$STATE_DIR/dockerd.ours"
  fi
}

status() {
  local host; host="$(engine_host)"
  if engine_answers "$host"; then
    local owner="external"; [ -f "$STATE_DIR/dockerd.ours" ] && pid_alive "$STATE_DIR/dockerd.pid" && owner="started by services.sh"
    echo "engine:     up ($host, $(docker --host "$host" version --format '{{.Server.Version}}'), $owner)"
  else
    echo "engine:     down ($host)"
  fi
  if registry_answers; then echo "registry:   up (http://$REGISTRY_ADDR, token realm $ORCHESTRATOR_URL/registry/token)"; else echo "registry:   down ($REGISTRY_ADDR)"; fi
  if docker --host "$host" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then echo "base image: $BASE_IMAGE"; else echo "base image: missing ($BASE_IMAGE)"; fi
  echo "token key:  $STATE_DIR/registry/token.key"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
