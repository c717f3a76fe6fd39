#!/usr/bin/env bash
# Passthrough load: the origin direct, nginx as reverse proxy, and the portal-sso sidecar,
# all in front of the same nginx origin on 127.0.0.1, measured with the same wrk command,
# alternating, several rounds (nginx and the sidecar back to back, in turns which goes
# first), with the CPU time each proxy spends per request. Then the sidecar's peak RSS
# after a 200-connection run.
#
#   bash benches/load.sh
#
# Environment (all optional):
#   ROUNDS=3            rounds of origin / nginx / sidecar runs
#   DURATION=10s        each wrk run
#   CONNECTIONS=64      wrk connections (-c); THREADS=1 wrk threads (-t)
#   RSS_CONNECTIONS=200 connections of the run before reading the sidecar's VmHWM
#   RSS_DURATION=10s    that run's length
#   PORTAL_SSO_BIN=...  sidecar binary to measure (default: build target/release/portal-sso)
#   SKIP_BUILD=1        do not run `cargo build --release`
#   KEEP_WORK=1         keep the generated configs, logs and wrk outputs
#
# Listens on 127.0.0.1 only, every run is bounded, and every process it starts is stopped
# on exit (including Ctrl-C).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-1}
RSS_CONNECTIONS=${RSS_CONNECTIONS:-200}
RSS_DURATION=${RSS_DURATION:-10s}
SKIP_BUILD=${SKIP_BUILD:-}
KEEP_WORK=${KEEP_WORK:-}
if [[ -n ${PORTAL_SSO_BIN:-} ]]; then
    SKIP_BUILD=1
else
    PORTAL_SSO_BIN=$ROOT/target/release/portal-sso
fi

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'load.sh: %s\n' "$*" >&2; exit 1; }

seconds_of() { # 10s, 2m, 15 -> seconds
    local d=$1
    case $d in
        *s) echo "${d%s}" ;;
        *m) echo $((${d%m} * 60)) ;;
        *) echo "$d" ;;
    esac
}

# --- tools -----------------------------------------------------------------------------
NGINX=$(command -v nginx || true)
[[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
WRK=$(command -v wrk || true)
if [[ -z $NGINX || -z $WRK ]]; then
    SUDO=
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || die "nginx and wrk are needed: install them (apt-get install nginx-light wrk) or run as root"
        SUDO=sudo
    fi
    log "installing nginx and wrk with apt-get"
    # Keep the package from starting a system nginx on port 80 while installing.
    POLICY=/usr/sbin/policy-rc.d
    ADDED_POLICY=
    if [[ ! -e $POLICY ]]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
        $SUDO chmod +x "$POLICY"
        ADDED_POLICY=1
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx-light wrk >/dev/null
    [[ -n $ADDED_POLICY ]] && $SUDO rm -f "$POLICY"
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
    WRK=$(command -v wrk)
fi
command -v awk >/dev/null || die "awk is needed"

# --- work directory, processes, cleanup ------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portal-sso-load.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [[ -n $KEEP_WORK ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() { # a port nothing listens on, from a random start
    local port=$((20000 + RANDOM % 20000))
    while port_in_use "$port"; do
        port=$((port + 1))
    done
    echo "$port"
}

wait_for_port() { # port, pid, name: up to 15 s
    local port=$1 pid=$2 name=$3
    for _ in $(seq 150); do
        port_in_use "$port" && return 0
        kill -0 "$pid" 2>/dev/null || { log "$name exited before listening"; return 1; }
        sleep 0.1
    done
    log "$name is not listening on 127.0.0.1:$port after 15 s"
    return 1
}

ORIGIN_PORT=$(free_port)
PROXY_PORT=$(free_port)
[[ $PROXY_PORT == "$ORIGIN_PORT" ]] && PROXY_PORT=$((ORIGIN_PORT + 1))

render() { # template -> $WORK/name
    sed -e "s|@WORK@|$WORK|g" -e "s|@ORIGIN_PORT@|$ORIGIN_PORT|g" -e "s|@PROXY_PORT@|$PROXY_PORT|g" \
        "$ROOT/benches/nginx/$1" >"$WORK/$1"
}

start_nginx() { # conf, port, name; sets NGINX_PID (the master)
    render "$1"
    "$NGINX" -p "$WORK" -c "$WORK/$1" -g 'daemon off;' 2>>"$WORK/$3.stderr" &
    local pid=$!
    PIDS+=("$pid")
    NGINX_PID=$pid
    wait_for_port "$2" "$pid" "$3" || { cat "$WORK/$3.stderr" "$WORK/$3.error.log" 2>/dev/null >&2; die "$3 did not start"; }
}

# --- measuring -------------------------------------------------------------------------
RESULTS=$WORK/results.tsv # round target rps p50_us p99_us problems cpu_us_per_request
: >"$RESULTS"

to_us() { # 123.45us | 1.23ms | 1.02s -> microseconds
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000;
        else if (v ~ /s$/) print n * 1000000; else print n }'
}

cpu_ticks() { # pids... -> user + system clock ticks they have used, all threads
    local pid total=0 ticks
    for pid in "$@"; do
        ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
        total=$((total + ticks))
    done
    echo "$total"
}

run_wrk() { # round target url connections duration [pids] -> one line in $RESULTS
    local round=$1 target=$2 url=$3 connections=$4 duration=$5 pids=${6:-}
    local out=$WORK/wrk-$target-$round.txt
    local before
    # shellcheck disable=SC2086 # a list of pids
    before=$(cpu_ticks $pids)
    timeout $(($(seconds_of "$duration") + 30)) \
        "$WRK" -t"$THREADS" -c"$connections" -d"$duration" --latency "$url" >"$out" 2>&1 ||
        { cat "$out" >&2; die "wrk against $target failed"; }
    local used requests cpu=-
    # shellcheck disable=SC2086
    used=$(($(cpu_ticks $pids) - before))
    requests=$(awk '/ requests in / { print $1 }' "$out")
    if [[ -n $pids && -n $requests && $requests -gt 0 ]]; then
        cpu=$(awk -v t="$used" -v hz="$CLK_TCK" -v n="$requests" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
    fi
    local rps p50 p99 problems
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    p50=$(to_us "$(awk '$1 == "50%" { print $2 }' "$out")")
    p99=$(to_us "$(awk '$1 == "99%" { print $2 }' "$out")")
    problems=$(awk '/Non-2xx|Socket errors/ { sub(/^ +/, ""); printf "%s; ", $0 }' "$out")
    [[ -n $rps && -n $p99 ]] || { cat "$out" >&2; die "could not read wrk's output for $target"; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$target" "$rps" "$p50" "$p99" "${problems:--}" "$cpu" >>"$RESULTS"
    printf '  round %s  %-8s %12.0f req/s   p50 %8.0f us   p99 %8.0f us   cpu %6s us/req  %s\n' \
        "$round" "$target" "$rps" "$p50" "$p99" "$cpu" "${problems}" >&2
}

# --- the sidecar, when its `serve` command exists ---------------------------------------
SIDECAR=
SIDECAR_PID=
SIDECAR_PORT=
SIDECAR_SKIP_REASON=
if [[ -z $SKIP_BUILD ]]; then
    log "cargo build --release"
    cargo build --release --quiet || SIDECAR_SKIP_REASON="cargo build --release failed"
fi

start_sidecar() {
    [[ -n $SIDECAR_SKIP_REASON ]] && return 1
    if [[ ! -x $PORTAL_SSO_BIN ]]; then
        SIDECAR_SKIP_REASON="$PORTAL_SSO_BIN does not exist"
        return 1
    fi
    # A stub binary exits 0 with no help text: require `serve --help` to name --config.
    if ! timeout 10 "$PORTAL_SSO_BIN" serve --help 2>&1 | grep -q -- '--config'; then
        SIDECAR_SKIP_REASON="$PORTAL_SSO_BIN has no \`serve --config\` command yet"
        return 1
    fi
    SIDECAR_PORT=$(free_port)
    while [[ $SIDECAR_PORT == "$ORIGIN_PORT" || $SIDECAR_PORT == "$PROXY_PORT" ]]; do
        SIDECAR_PORT=$((SIDECAR_PORT + 1))
    done
    # Secrets come from the environment, as the config contract requires.
    KUSTOMER_SSO_SECRET=$(head -c 36 /dev/urandom | base64 | tr -d '\n')
    AHA_SSO_SECRET=$(head -c 36 /dev/urandom | base64 | tr -d '\n')
    export KUSTOMER_SSO_SECRET AHA_SSO_SECRET
    cat >"$WORK/portal-sso.toml" <<EOF
listen = "127.0.0.1:$SIDECAR_PORT"
upstream = "http://127.0.0.1:$ORIGIN_PORT"

[session]
cookie = "sid"
introspect = { url = "http://127.0.0.1:$ORIGIN_PORT/api/me", cache_ttl_secs = 30 }

[session.claims]
email = "/email"
first_name = "/first_name"
last_name = "/last_name"

[login]
url = "/login"
return_param = "next"

[[portal]]
kind = "kustomer"
path = "/sso/kustomer"
secret = { env = "KUSTOMER_SSO_SECRET" }
redirect_origins = ["https://acme.kustomer.help"]
default_redirect = "https://acme.kustomer.help/login"

[[portal]]
kind = "aha"
path = "/sso/aha"
secret = { env = "AHA_SSO_SECRET" }
callback_url = "https://acme.identity.aha.io/idea_portal_provider/jwt_callback/123456"
logout_path = "/sso/aha/logout"
EOF
    if ! timeout 10 "$PORTAL_SSO_BIN" check-config --config "$WORK/portal-sso.toml" >"$WORK/check-config.txt" 2>&1; then
        SIDECAR_SKIP_REASON="check-config refused the generated config: $(head -n 3 "$WORK/check-config.txt")"
        return 1
    fi
    RUST_LOG=${RUST_LOG:-warn} "$PORTAL_SSO_BIN" serve --config "$WORK/portal-sso.toml" \
        >"$WORK/sidecar.log" 2>&1 &
    SIDECAR_PID=$!
    PIDS+=("$SIDECAR_PID")
    if ! wait_for_port "$SIDECAR_PORT" "$SIDECAR_PID" sidecar; then
        SIDECAR_SKIP_REASON="the sidecar did not start: $(tail -n 3 "$WORK/sidecar.log")"
        return 1
    fi
    local status
    status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SIDECAR_PORT/" 2>/dev/null || true)
    if [[ -n $status && $status != 200 ]]; then
        SIDECAR_SKIP_REASON="the sidecar answered $status for / (the origin answers 200)"
        return 1
    fi
    SIDECAR=1
}

# --- run -------------------------------------------------------------------------------
log "nginx origin on 127.0.0.1:$ORIGIN_PORT, nginx proxy on 127.0.0.1:$PROXY_PORT"
start_nginx origin.conf "$ORIGIN_PORT" origin
start_nginx proxy.conf "$PROXY_PORT" proxy
PROXY_PID=$NGINX_PID
if start_sidecar; then
    log "portal-sso sidecar on 127.0.0.1:$SIDECAR_PORT ($PORTAL_SSO_BIN)"
else
    log "SKIPPING the sidecar: $SIDECAR_SKIP_REASON"
    log "the origin and nginx runs go ahead; run this script again once \`portal-sso serve\` exists"
fi

log "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $ROUNDS rounds, targets alternating ($(nproc) CPUs)"
# Warm-up: one short run each so connection pools and caches are filled before timing.
for port in "$ORIGIN_PORT" "$PROXY_PORT" ${SIDECAR:+"$SIDECAR_PORT"}; do
    timeout 30 "$WRK" -t"$THREADS" -c"$CONNECTIONS" -d2s "http://127.0.0.1:$port/" >/dev/null 2>&1 || true
done
# The proxy's workers (nginx's master does no request work) and the sidecar's process,
# whose CPU time per request is measured beside wrk's figures.
PROXY_WORKERS=$(pgrep -P "$PROXY_PID" | tr '\n' ' ')
CLK_TCK=$(getconf CLK_TCK)
# nginx and the sidecar run back to back, in turns which goes first, so each round's
# ratio compares two runs made under the same conditions.
run_nginx() { run_wrk "$1" nginx "http://127.0.0.1:$PROXY_PORT/" "$CONNECTIONS" "$DURATION" "$PROXY_WORKERS"; }
run_sidecar() {
    [[ -n $SIDECAR ]] || return 0
    run_wrk "$1" sidecar "http://127.0.0.1:$SIDECAR_PORT/" "$CONNECTIONS" "$DURATION" "$SIDECAR_PID"
}
for round in $(seq "$ROUNDS"); do
    if ((round % 2)); then
        run_wrk "$round" origin "http://127.0.0.1:$ORIGIN_PORT/" "$CONNECTIONS" "$DURATION"
        run_nginx "$round"
        run_sidecar "$round"
    else
        run_sidecar "$round"
        run_nginx "$round"
        run_wrk "$round" origin "http://127.0.0.1:$ORIGIN_PORT/" "$CONNECTIONS" "$DURATION"
    fi
done

# --- report ----------------------------------------------------------------------------
echo
echo "Passthrough, wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $ROUNDS rounds, $(nproc) CPUs"
awk -F'\t' '
    function sort(a, n,    i, j, t) {
        for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    }
    function median(a, n) { return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    function summary(label, a, n, fmt) {
        sort(a, n)
        printf "  %-28s min " fmt "  median " fmt "  max " fmt "\n", label, a[1], median(a, n), a[n]
    }
    { rps[$2, $1] = $3; p50[$2, $1] = $4; p99[$2, $1] = $5; cpu[$2, $1] = $7; rounds = ($1 > rounds ? $1 : rounds); seen[$2] = 1
      if ($6 != "-") problems = problems "  round " $1 " " $2 ": " $6 "\n" }
    END {
        printf "  %-8s %12s %10s %10s\n", "target", "req/s", "p50 us", "p99 us"
        split("origin nginx sidecar", targets, " ")
        for (t = 1; t <= 3; t++) {
            name = targets[t]
            if (!(name in seen)) continue
            n = 0
            for (r = 1; r <= rounds; r++) { n++; a[n] = rps[name, r]; b[n] = p50[name, r]; c[n] = p99[name, r] }
            sort(a, n); sort(b, n); sort(c, n)
            printf "  %-8s %12.0f %10.0f %10.0f   (medians over %d rounds)\n", name, median(a, n), median(b, n), median(c, n), n
        }
        if ("sidecar" in seen) {
            print ""
            print "  sidecar / nginx, round by round (req/s ratio >= 1.0 and p99 ratio <= 1.0 wanted):"
            for (r = 1; r <= rounds; r++) {
                q[r] = rps["sidecar", r] / rps["nginx", r]; l[r] = p99["sidecar", r] / p99["nginx", r]
                printf "    round %d: req/s %.3f   p99 %.3f\n", r, q[r], l[r]
            }
            summary("req/s ratio", q, rounds, "%.3f")
            summary("p99 ratio", l, rounds, "%.3f")
            print ""
            print "  CPU time (user + system) per request, sidecar / nginx workers, round by round:"
            for (r = 1; r <= rounds; r++) {
                u[r] = cpu["sidecar", r] / cpu["nginx", r]
                printf "    round %d: %.2f us / %.2f us = %.3f\n", r, cpu["sidecar", r], cpu["nginx", r], u[r]
            }
            summary("CPU per request ratio", u, rounds, "%.3f")
        }
        print ""
        print "  nginx proxy / origin direct, round by round (what one proxy hop costs):"
        for (r = 1; r <= rounds; r++) {
            m[r] = rps["nginx", r] / rps["origin", r]
            printf "    round %d: req/s %.3f\n", r, m[r]
        }
        summary("req/s ratio", m, rounds, "%.3f")
        if (problems != "") { print ""; printf "  wrk reported problems:\n%s", problems }
    }' "$RESULTS"

if [[ -n $SIDECAR ]]; then
    echo
    log "sidecar peak RSS: wrk -t$THREADS -c$RSS_CONNECTIONS -d$RSS_DURATION"
    run_wrk rss sidecar-rss "http://127.0.0.1:$SIDECAR_PORT/" "$RSS_CONNECTIONS" "$RSS_DURATION"
    hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SIDECAR_PID/status")
    rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SIDECAR_PID/status")
    awk -v hwm="$hwm_kb" -v rss="$rss_kb" -v c="$RSS_CONNECTIONS" 'BEGIN {
        printf "Sidecar memory after %d connections under load: peak (VmHWM) %.1f MB, now (VmRSS) %.1f MB  [%s: < 30 MB]\n",
            c, hwm / 1024, rss / 1024, hwm < 30 * 1024 ? "ok" : "OVER" }'
else
    echo
    echo "Sidecar: not measured ($SIDECAR_SKIP_REASON)."
fi
