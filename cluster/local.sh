#!/usr/bin/env bash
# A local multi-node Ray cluster on loopback, for development and tests.
#
#   cluster/local.sh up [N]        start a head + N-1 worker nodes (default N=2)
#   cluster/local.sh status        address, dashboard, nodes, pids (exit 1 if a node died)
#   cluster/local.sh down [--purge] stop ONLY the processes this script started
#   cluster/local.sh env           print the export lines (source <(cluster/local.sh env))
#
# Token authentication is on: the token is generated into STATE/auth_token (mode 0600)
# and every client finds it through RAY_AUTH_TOKEN_PATH; no command prints the token.
#
# Every node is a `ray start --block` run in its own session (setsid), so the node and
# everything Ray forks for it (gcs, raylet, dashboard, agents, workers) share one process
# group.  `down` signals those recorded groups and pids only: never `ray stop`, never a
# kill by process name, so other Ray clusters on the machine are left alone.
#
# Environment knobs:
#   DISTLM_CLUSTER_DIR      state folder (default .cluster)
#   DISTLM_CPUS_PER_NODE    logical CPUs per node (default 2)
#   DISTLM_OBJECT_STORE_MB  object store per node in MiB (default 512)
#   DISTLM_GPUS_PER_NODE    GPUs per node; unset: the head detects the host's GPUs and the
#                           other nodes get 0, so one host's GPUs are not counted N times
#   DISTLM_START_TIMEOUT    seconds to wait for a node to come up (default 120)
#   DISTLM_DOWN_GRACE       seconds between SIGTERM and SIGKILL in `down` (default 10)
#   DISTLM_NODE_DEAD_S      a node that fails its GCS health check 3 times in a row, one
#                           check every DISTLM_NODE_DEAD_S/3 s, is declared dead (default 3;
#                           Ray's default is ~15 s, tuned for real networks, not loopback)
#   DISTLM_PYTHON           python that has ray installed (default: .venv/bin/python of
#                           this checkout, else python3)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_ARG="${DISTLM_CLUSTER_DIR:-.cluster}"
CPUS="${DISTLM_CPUS_PER_NODE:-2}"
STORE_MB="${DISTLM_OBJECT_STORE_MB:-512}"
START_TIMEOUT="${DISTLM_START_TIMEOUT:-120}"
DOWN_GRACE="${DISTLM_DOWN_GRACE:-10}"
NODE_DEAD_S="${DISTLM_NODE_DEAD_S:-3}"
if [[ -n "${DISTLM_PYTHON:-}" ]]; then PY="$DISTLM_PYTHON"
elif [[ -x "$REPO/.venv/bin/python" ]]; then PY="$REPO/.venv/bin/python"
else PY="$(command -v python3)"; fi
RAY="$(dirname "$PY")/ray"
[[ -x "$RAY" ]] || RAY="$(command -v ray || true)"

die() { echo "local.sh: $*" >&2; exit 2; }

state_dir() {  # absolute path of the state folder (created)
  mkdir -p "$STATE_ARG"
  # keep it out of git and of `ray job submit --working-dir .` uploads (sockets, logs)
  [[ -f "$STATE_ARG/.gitignore" ]] || echo '*' >"$STATE_ARG/.gitignore"
  (cd "$STATE_ARG" && pwd)
}

# --- process bookkeeping ---------------------------------------------------------------

starttime() {  # field 22 of /proc/PID/stat: start time in clock ticks since boot
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"           # drop "pid (comm) " (comm may hold spaces)
  awk '{print $20}' <<<"$stat"  # field 22 overall = 20th after comm
}

is_alive() {  # PID [STARTTIME]: running (zombies count as dead), and the same process
  local st
  [[ -r "/proc/$1/stat" ]] || return 1
  st="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  st="${st##*) }"
  [[ "${st%% *}" != "Z" ]] || return 1
  [[ -z "${2:-}" || "$(starttime "$1")" == "$2" ]]
}

group_members() {  # PGID -> pids in that process group, one a line
  ps -eo pid=,pgid= | awk -v g="$1" '$2 == g {print $1}'
}

descendants() {  # PID -> all descendant pids (a raylet's workers may leave the group)
  ps -eo pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2 }
    END { for (p in parent) { q = p; while (q in parent && q != 1) {
            if (parent[q] == root) { print p; break } ; q = parent[q] } } }'
}

record_tree() {  # STATE NODE PGID: append every live pid of the node to STATE/pids
  local state="$1" node="$2" pgid="$3" pid st
  for pid in $( { group_members "$pgid"; descendants "$pgid"; } | sort -un); do
    grep -q "^$pid " "$state/pids" 2>/dev/null && continue
    st="$(starttime "$pid")" || continue
    echo "$pid $st $node" >>"$state/pids"
  done
}

free_ports() {  # N -> N distinct free TCP ports on 127.0.0.1 (held together, then freed)
  "$PY" - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# --- up --------------------------------------------------------------------------------

node_tmp_root() {  # STATE -> folder for the nodes' --temp-dir (unix socket paths <108 chars)
  local state="$1"
  if (( ${#state} <= 40 )); then
    mkdir -p "$state/nodes"; echo "$state/nodes"
  else  # long state path: short folder in /tmp, linked from the state folder
    local short; short="$(mktemp -d /tmp/dlray.XXXXXX)"
    ln -sfn "$short" "$state/nodes"; echo "$short" >"$state/nodes_link"; echo "$short"
  fi
}

wait_started() {  # LOG PID NAME: wait for "Ray runtime started" in LOG while PID lives
  local log="$1" pid="$2" name="$3" waited=0
  until grep -q "Ray runtime started" "$log" 2>/dev/null; do
    is_alive "$pid" || { tail -n 30 "$log" >&2; return 1; }
    (( waited++ < START_TIMEOUT )) || { echo "local.sh: $name not up after ${START_TIMEOUT}s" >&2; tail -n 30 "$log" >&2; return 1; }
    sleep 1
  done
}

start_node() {  # STATE NAME TMPDIR ARGS...: start one `ray start --block` in its own session
  local state="$1" name="$2" tmp="$3"; shift 3
  local ports; read -r -a ports <<<"$(free_ports 6)"
  mkdir -p "$tmp" "$state/logs"
  setsid "$RAY" start --block --node-ip-address 127.0.0.1 --temp-dir "$tmp" \
    --num-cpus "$CPUS" --object-store-memory $(( STORE_MB * 1024 * 1024 )) \
    --node-manager-port "${ports[0]}" --object-manager-port "${ports[1]}" \
    --dashboard-agent-listen-port "${ports[2]}" --dashboard-agent-grpc-port "${ports[3]}" \
    --runtime-env-agent-port "${ports[4]}" --metrics-export-port "${ports[5]}" \
    --disable-usage-stats "$@" \
    </dev/null >"$state/logs/$name.log" 2>&1 &
  local pid=$! pgid="" tries=0
  echo "$pid $(starttime "$pid") $name" >>"$state/pids"
  until [[ "$pgid" == "$pid" ]]; do  # setsid(2) runs just after the fork: wait for it
    if (( tries++ >= 50 )); then
      echo "local.sh: $name: pid $pid did not become a group leader (pgid $pgid)" >&2
      kill "$pid" 2>/dev/null || true; return 1
    fi
    sleep 0.1; pgid="$(ps -o pgid= -p "$pid" | tr -d ' ')"
  done
  echo "$name $pid $(starttime "$pid")" >>"$state/nodes.txt"
  if ! wait_started "$state/logs/$name.log" "$pid" "$name"; then return 1; fi
  record_tree "$state" "$name" "$pid"
}

health_config() {  # the head's GCS health checks: 3 misses in DISTLM_NODE_DEAD_S seconds
  echo "{\"health_check_period_ms\": $(( NODE_DEAD_S * 1000 / 3 )), \"health_check_failure_threshold\": 3}"
}

cmd_up() {
  local n="${1:-2}"
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "up: N must be a positive integer, got '$n'"
  [[ "$NODE_DEAD_S" =~ ^[1-9][0-9]*$ ]] || die "DISTLM_NODE_DEAD_S must be a positive integer, got '$NODE_DEAD_S'"
  [[ -x "$RAY" ]] || die "no ray executable next to $PY (set DISTLM_PYTHON)"
  local state; state="$(state_dir)"
  if [[ -f "$state/nodes.txt" ]] && cmd_alive_any "$state"; then
    die "a cluster from $state is still running; run 'down' first"
  fi
  if [[ -f "$state/nodes_link" ]]; then rm -rf "$(cat "$state/nodes_link")"; rm -f "$state/nodes_link"; fi
  rm -rf "$state/nodes" "$state/logs"
  rm -f "$state/nodes.txt" "$state/pids" "$state/env" "$state/address" "$state/dashboard"
  # the token goes to a 0600 file and only its path is passed on or printed: no
  # terminal, log or `env` output ever holds the secret itself
  (umask 077; "$PY" -c 'import secrets; print(secrets.token_hex(32))' >"$state/auth_token")
  unset RAY_AUTH_TOKEN
  export RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH="$state/auth_token" RAY_USAGE_STATS_ENABLED=0
  # job entrypoints say `python ...`: let that be the interpreter that runs the nodes
  export PATH="$(dirname "$PY"):$PATH"
  local ports; read -r -a ports <<<"$(free_ports 3)"
  local gcs="127.0.0.1:${ports[0]}" dash="http://127.0.0.1:${ports[1]}"
  local tmproot; tmproot="$(node_tmp_root "$state")"
  {
    echo "export RAY_AUTH_MODE=token"
    echo "export RAY_AUTH_TOKEN_PATH=$state/auth_token"
    echo "export RAY_ADDRESS=$gcs"
    echo "export RAY_API_SERVER_ADDRESS=$dash"
  } >"$state/env"
  chmod 600 "$state/env"
  echo "$gcs" >"$state/address"
  echo "$dash" >"$state/dashboard"
  local head_gpus=() worker_gpus=(--num-gpus 0)
  if [[ -n "${DISTLM_GPUS_PER_NODE:-}" ]]; then
    head_gpus=(--num-gpus "$DISTLM_GPUS_PER_NODE"); worker_gpus=(--num-gpus "$DISTLM_GPUS_PER_NODE")
  fi
  start_node "$state" n0 "$tmproot/n0" --head --port "${ports[0]}" "${head_gpus[@]}" \
    --include-dashboard=true --dashboard-host 127.0.0.1 --dashboard-port "${ports[1]}" \
    --ray-client-server-port "${ports[2]}" --system-config "$(health_config)" \
    || { cmd_down; die "head node failed to start"; }
  local i
  for (( i = 1; i < n; i++ )); do
    start_node "$state" "n$i" "$tmproot/n$i" --address "$gcs" "${worker_gpus[@]}" \
      || { cmd_down; die "worker node n$i failed to start"; }
  done
  echo "# local Ray cluster: $n node(s), state in $state"
  cat "$state/env"
}

# --- status / down ---------------------------------------------------------------------

cmd_alive_any() {  # STATE: true if any recorded pid still runs
  local pid st rest
  [[ -f "$1/pids" ]] || return 1
  while read -r pid st rest; do is_alive "$pid" "$st" && return 0; done <"$1/pids"
  return 1
}

cmd_status() {
  local state; state="$(state_dir)"
  [[ -f "$state/nodes.txt" ]] || { echo "no cluster recorded in $state"; return 3; }
  echo "address:   $(cat "$state/address")   (ray.init / ray start --address / ray status --address)"
  echo "dashboard: $(cat "$state/dashboard")   (ray job submit --address)"
  echo "env:       source $state/env"
  local name pid st dead=0 live
  while read -r name pid st; do
    live="$(awk -v n="$name" '$3 == n {print $1, $2}' "$state/pids" | while read -r p s; do
      if is_alive "$p" "$s"; then printf '%s ' "$p"; fi; done)"
    if is_alive "$pid" "$st"; then echo "node $name: alive  pgid $pid  pids ${live:-none}"
    else echo "node $name: DEAD   pgid $pid  pids ${live:-none}"; dead=1; fi
  done <"$state/nodes.txt"
  return "$dead"
}

signal_all() {  # STATE SIG: signal recorded groups (workers first) and recorded pids
  local state="$1" sig="$2" name pid st rest
  while read -r name pid st; do
    # the group id is only ours while its leader is ours or some member we recorded lives
    if is_alive "$pid" "$st" || group_members "$pid" | grep -qxFf <(awk '{print $1}' "$state/pids"); then
      kill "-$sig" -- "-$pid" 2>/dev/null || true
    fi
  done < <(tac "$state/nodes.txt")
  while read -r pid st rest; do
    if is_alive "$pid" "$st"; then kill "-$sig" "$pid" 2>/dev/null || true; fi
  done <"$state/pids"
}

cmd_down() {
  local state; state="$(state_dir)"
  [[ -f "$state/nodes.txt" ]] || { echo "no cluster recorded in $state"; return 0; }
  local name pid st
  while read -r name pid st; do  # workers forked since `up` join the record first
    is_alive "$pid" "$st" && record_tree "$state" "$name" "$pid"
  done <"$state/nodes.txt"
  signal_all "$state" TERM
  local waited=0
  while cmd_alive_any "$state" && (( waited++ < DOWN_GRACE * 2 )); do sleep 0.5; done
  if cmd_alive_any "$state"; then
    signal_all "$state" KILL
    waited=0
    while cmd_alive_any "$state" && (( waited++ < 20 )); do sleep 0.5; done
  fi
  if cmd_alive_any "$state"; then echo "local.sh: some recorded pids survived SIGKILL" >&2; return 1; fi
  echo "stopped $(wc -l <"$state/nodes.txt") node(s), $(wc -l <"$state/pids") recorded pids"
  if [[ "${1:-}" == "--purge" ]]; then
    [[ -f "$state/nodes_link" ]] && rm -rf "$(cat "$state/nodes_link")"
    rm -rf "$state"
  fi
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  status) cmd_status ;;
  down) shift; cmd_down "$@" ;;
  env) cat "$(state_dir)/env" ;;
  *) echo "usage: $0 up [N] | status | down [--purge] | env" >&2; exit 2 ;;
esac
