#!/usr/bin/env bash
# Passthrough load: the portal-sso sidecar against nginx and HAProxy as reverse proxies,
# all in front of the same nginx origin on 127.0.0.1, measured with the same wrk command
# in rounds whose order rotates, with each proxy's CPU time per request. Optionally a
# second sidecar build (COMPARE_BIN) in the same rounds, so two builds are compared in
# alternation; optionally the sidecar's SSO issuance (ISSUANCE=1) beside its passthrough.
# Then the sidecar's peak RSS after a 200-connection run.
#
#   bash benches/load.sh
#
# Environment (all optional):
#   ROUNDS=6            rounds; every target runs once per round
#   DURATION=10s        each wrk run
#   CONNECTIONS=64      wrk connections (-c); THREADS=1 wrk threads (-t)
#   RSS_CONNECTIONS=200 connections of the run before reading the sidecar's VmHWM
#   PORTAL_SSO_BIN=...  sidecar binary to measure (default: build target/release/portal-sso)
#   COMPARE_BIN=...     a second sidecar binary, measured as "sidecar-b" in the same rounds
#   ISSUANCE=1          also GET /sso/kustomer through the sidecar (a JWT session cookie,
#                       so no call to the app), as target "issuance"
#   KEEP_WORK=1         keep the generated configs, logs and wrk outputs
#
# Listens on 127.0.0.1 only, every run is bounded, and every process it starts is stopped
# on exit (including Ctrl-C). Installs nginx-light, haproxy and wrk from Debian's
# packages when they are missing (as root).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

ROUNDS=${ROUNDS:-6}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-1}
RSS_CONNECTIONS=${RSS_CONNECTIONS:-200}
KEEP_WORK=${KEEP_WORK:-}
ISSUANCE=${ISSUANCE:-}
COMPARE_BIN=${COMPARE_BIN:-}

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'load.sh: %s\n' "$*" >&2; exit 1; }

seconds_of() { # 10s, 2m, 15 -> seconds
    case $1 in
        *s) echo "${1%s}" ;;
        *m) echo $((${1%m} * 60)) ;;
        *) echo "$1" ;;
    esac
}

# --- tools -----------------------------------------------------------------------------
need=()
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || need+=(nginx-light)
command -v haproxy >/dev/null || [[ -x /usr/sbin/haproxy ]] || need+=(haproxy)
command -v wrk >/dev/null || need+=(wrk)
if ((${#need[@]})); then
    [[ $(id -u) -eq 0 ]] || die "needed: ${need[*]} (apt-get install ${need[*]}), or run as root"
    log "installing ${need[*]}"
    # Keep the packages from starting system services on ports 80 and 443.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    rm -f /usr/sbin/policy-rc.d
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
WRK=$(command -v wrk)

if [[ -z ${PORTAL_SSO_BIN:-} ]]; then
    log "cargo build --release"
    cargo build --release --quiet -p portal-sso-sidecar
    PORTAL_SSO_BIN=$ROOT/target/release/portal-sso
fi

# --- work directory, processes, cleanup ------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portal-sso-load.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [[ -n $KEEP_WORK ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
TAKEN=" "
free_port() { # a port nothing listens on and this script has not handed out
    local port=$((20000 + RANDOM % 20000))
    while port_in_use "$port" || [[ $TAKEN == *" $port "* ]]; do port=$((port + 1)); done
    TAKEN+="$port "
    echo "$port"
}
wait_for_port() { # port pid name: up to 15 s
    for _ in $(seq 150); do
        port_in_use "$1" && return 0
        kill -0 "$2" 2>/dev/null || { log "$3 exited before listening"; return 1; }
        sleep 0.1
    done
    log "$3 is not listening on 127.0.0.1:$1 after 15 s"
    return 1
}

ORIGIN_PORT=$(free_port)
declare -A PORT PID
start() { # name port command...: runs it in the background, waits for the port
    local name=$1 port=$2
    shift 2
    "$@" >"$WORK/$name.log" 2>&1 &
    PID[$name]=$!
    PORT[$name]=$port
    PIDS+=("${PID[$name]}")
    wait_for_port "$port" "${PID[$name]}" "$name" || { cat "$WORK/$name.log" >&2; die "$name did not start"; }
}
render() { # template -> $WORK/template, with the ports filled in
    sed -e "s|@WORK@|$WORK|g" -e "s|@ORIGIN_PORT@|$ORIGIN_PORT|g" -e "s|@PROXY_PORT@|$2|g" \
        "$ROOT/benches/$1" >"$WORK/$(basename "$1")"
}

# --- the origin and the proxies ---------------------------------------------------------
render nginx/origin.conf ""
start origin "$ORIGIN_PORT" "$NGINX" -p "$WORK" -c "$WORK/origin.conf" -g 'daemon off;'
port=$(free_port)
render nginx/proxy.conf "$port"
start nginx "$port" "$NGINX" -p "$WORK" -c "$WORK/proxy.conf" -g 'daemon off;'
port=$(free_port)
render haproxy/proxy.cfg "$port"
start haproxy "$port" "$HAPROXY" -f "$WORK/proxy.cfg"

# The sidecar's session is a JWT cookie, so the issuance runs never call the app.
SESSION_KEY=$(head -c 36 /dev/urandom | base64 | tr -d '\n/+=')
KUSTOMER_SSO_SECRET=$(head -c 36 /dev/urandom | base64 | tr -d '\n')
AHA_SSO_SECRET=$(head -c 36 /dev/urandom | base64 | tr -d '\n')
export SESSION_KEY KUSTOMER_SSO_SECRET AHA_SSO_SECRET
start_sidecar() { # name binary
    local port
    port=$(free_port)
    cat >"$WORK/$1.toml" <<EOF
listen = "127.0.0.1:$port"
upstream = "http://127.0.0.1:$ORIGIN_PORT"

[session]
cookie = "sid"
jwt = { secret = { env = "SESSION_KEY" }, algorithm = "HS256" }

[[portal]]
kind = "kustomer"
secret = { env = "KUSTOMER_SSO_SECRET" }
redirect_origins = ["https://acme.kustomer.help"]
default_redirect = "https://acme.kustomer.help/login"

[[portal]]
kind = "aha"
secret = { env = "AHA_SSO_SECRET" }
callback_url = "https://acme.identity.aha.io/idea_portal_provider/jwt_callback/123456"
EOF
    "$2" check-config --config "$WORK/$1.toml" >/dev/null || die "$2 refused the generated config"
    RUST_LOG=warn start "$1" "$port" "$2" serve --config "$WORK/$1.toml"
}
start_sidecar sidecar "$PORTAL_SSO_BIN"
[[ -n $COMPARE_BIN ]] && start_sidecar sidecar-b "$COMPARE_BIN"

# --- measuring -------------------------------------------------------------------------
RESULTS=$WORK/results.tsv # round target rps p50_us p99_us problems cpu_us_per_request user_us_per_request
: >"$RESULTS"
CLK_TCK=$(getconf CLK_TCK)
to_us() { # 123.45us | 1.23ms | 1.02s -> microseconds
    awk -v v="$1" 'BEGIN { n = v + 0
        if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000
        else if (v ~ /s$/) print n * 1000000; else print n }'
}
cpu_ticks() { # pids... -> "user system" clock ticks used, all threads
    local user=0 system=0 pid u s
    for pid in "$@"; do
        read -r u s < <(awk '{ print $14, $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0 0)
        user=$((user + u)) system=$((system + s))
    done
    echo "$user $system"
}
per_request() { # clock ticks, requests -> microseconds per request
    awk -v t="$1" -v hz="$CLK_TCK" -v n="$2" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }'
}
# The processes that do a target's request work (nginx's master does none).
workers_of() {
    case $1 in
        nginx) pgrep -P "${PID[nginx]}" | tr '\n' ' ' ;;
        issuance) echo "${PID[sidecar]}" ;;
        *) echo "${PID[$1]}" ;;
    esac
}
url_of() {
    case $1 in
        issuance) echo "http://127.0.0.1:${PORT[sidecar]}/sso/kustomer?trackingToken=x&kustomerRedirectUri=https://acme.kustomer.help/login" ;;
        *) echo "http://127.0.0.1:${PORT[$1]}/" ;;
    esac
}
session_cookie() { # an HS256 JWT for alice, signed with SESSION_KEY
    local b64='base64 -w0'
    local header claims signature
    header=$(printf '{"alg":"HS256","typ":"JWT"}' | $b64 | tr '+/' '-_' | tr -d '=')
    claims=$(printf '{"email":"alice@example.com","exp":%d}' $(($(date +%s) + 3600)) | $b64 | tr '+/' '-_' | tr -d '=')
    signature=$(printf '%s.%s' "$header" "$claims" | openssl dgst -sha256 -hmac "$SESSION_KEY" -binary | $b64 | tr '+/' '-_' | tr -d '=')
    echo "sid=$header.$claims.$signature"
}
run_wrk() { # round target connections duration
    local round=$1 target=$2 out=$WORK/wrk-$2-$1.txt before after requests cpu=- user=-
    local pids
    pids=$(workers_of "$target")
    # shellcheck disable=SC2086 # a list of pids
    read -r -a before <<<"$(cpu_ticks $pids)"
    local header=()
    [[ $target == issuance ]] && header=(-H "Cookie: $(session_cookie)")
    timeout $(($(seconds_of "$4") + 30)) "$WRK" -t"$THREADS" -c"$3" -d"$4" --latency \
        "${header[@]}" "$(url_of "$target")" >"$out" 2>&1 || { cat "$out" >&2; die "wrk against $target failed"; }
    # shellcheck disable=SC2086
    read -r -a after <<<"$(cpu_ticks $pids)"
    requests=$(awk '/ requests in / { print $1 }' "$out")
    if [[ $requests -gt 0 ]]; then
        cpu=$(per_request $((after[0] + after[1] - before[0] - before[1])) "$requests")
        user=$(per_request $((after[0] - before[0])) "$requests")
    fi
    local rps p50 p99 problems
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    p50=$(to_us "$(awk '$1 == "50%" { print $2 }' "$out")")
    p99=$(to_us "$(awk '$1 == "99%" { print $2 }' "$out")")
    problems=$(awk '/Non-2xx|Socket errors/ { sub(/^ +/, ""); printf "%s; ", $0 }' "$out")
    # Issuance answers 302 by design: not a problem.
    [[ $target == issuance ]] && problems=$(sed 's/Non-2xx or 3xx responses: [0-9]*; //' <<<"$problems")
    [[ -n $rps && -n $p99 ]] || { cat "$out" >&2; die "could not read wrk's output for $target"; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$target" "$rps" "$p50" "$p99" "${problems:--}" "$cpu" "$user" >>"$RESULTS"
    printf '  round %-3s %-9s %10.0f req/s  p50 %7.0f us  p99 %7.0f us  cpu %6s us/req (user %s)  %s\n' \
        "$round" "$target" "$rps" "$p50" "$p99" "$cpu" "$user" "$problems" >&2
}

TARGETS=(nginx haproxy sidecar)
[[ -n $COMPARE_BIN ]] && TARGETS+=(sidecar-b)
[[ -n $ISSUANCE ]] && TARGETS+=(issuance)
log "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $ROUNDS rounds of ${TARGETS[*]}, order rotating ($(nproc) CPUs)"
for target in origin "${TARGETS[@]}"; do # warm-up: pools and caches filled before timing
    timeout 30 "$WRK" -t"$THREADS" -c"$CONNECTIONS" -d2s "$(url_of "$target")" >/dev/null 2>&1 || true
done
for round in $(seq "$ROUNDS"); do
    n=${#TARGETS[@]}
    for i in $(seq 0 $((n - 1))); do
        run_wrk "$round" "${TARGETS[$(((i + round) % n))]}" "$CONNECTIONS" "$DURATION"
    done
done

# --- report ----------------------------------------------------------------------------
echo
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $ROUNDS rounds, $(nproc) CPUs; medians over the rounds, ratios taken round by round"
awk -F'\t' -v targets="${TARGETS[*]}" '
    function sort(a, n,    i, j, t) {
        for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    }
    function median(a, n) { return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    function ratios(label, num, den,    r, q, l, u, n) {
        n = 0
        for (r = 1; r <= rounds; r++) {
            n++; q[n] = rps[num, r] / rps[den, r]; l[n] = p99[num, r] / p99[den, r]; u[n] = cpu[num, r] / cpu[den, r]
        }
        sort(q, n); sort(l, n); sort(u, n)
        printf "  %-22s req/s %.3f (%.3f-%.3f)   p99 %.3f (%.3f-%.3f)   cpu/req %.3f (%.3f-%.3f)\n",
            label, median(q, n), q[1], q[n], median(l, n), l[1], l[n], median(u, n), u[1], u[n]
    }
    { rps[$2, $1] = $3; p99[$2, $1] = $5; p50[$2, $1] = $4; cpu[$2, $1] = $7; usr[$2, $1] = $8; rounds = ($1 > rounds ? $1 : rounds)
      if ($6 != "-") problems = problems "  round " $1 " " $2 ": " $6 "\n" }
    END {
        n = split(targets, t, " ")
        printf "  %-10s %10s %9s %9s %10s %11s\n", "target", "req/s", "p50 us", "p99 us", "cpu us/req", "user us/req"
        for (i = 1; i <= n; i++) {
            for (r = 1; r <= rounds; r++) { a[r] = rps[t[i], r]; b[r] = p50[t[i], r]; c[r] = p99[t[i], r]; d[r] = cpu[t[i], r]; e[r] = usr[t[i], r] }
            sort(a, rounds); sort(b, rounds); sort(c, rounds); sort(d, rounds); sort(e, rounds)
            printf "  %-10s %10.0f %9.0f %9.0f %10.2f %11.2f\n", t[i], median(a, rounds), median(b, rounds), median(c, rounds), median(d, rounds), median(e, rounds)
        }
        print ""
        print "  median (min-max) of the per-round ratios:"
        ratios("sidecar / nginx", "sidecar", "nginx")
        ratios("sidecar / haproxy", "sidecar", "haproxy")
        if (targets ~ /sidecar-b/) ratios("sidecar / sidecar-b", "sidecar", "sidecar-b")
        if (targets ~ /issuance/) ratios("issuance / sidecar", "issuance", "sidecar")
        if (problems != "") { print ""; printf "  wrk reported problems:\n%s", problems }
    }' "$RESULTS"

echo
log "sidecar peak RSS: wrk -t$THREADS -c$RSS_CONNECTIONS -d10s"
run_wrk rss sidecar "$RSS_CONNECTIONS" 10s
awk -v hwm="$(awk '/^VmHWM:/ { print $2 }' "/proc/${PID[sidecar]}/status")" -v c="$RSS_CONNECTIONS" 'BEGIN {
    printf "Sidecar peak memory (VmHWM) after %d connections under load: %.1f MB  [%s: < 30 MB]\n",
        c, hwm / 1024, hwm < 30 * 1024 ? "ok" : "OVER" }'
