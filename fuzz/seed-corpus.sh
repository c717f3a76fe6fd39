#!/usr/bin/env bash
# Seeds fuzz/corpus/ (not committed) from the open-redirect list in shared/testdata,
# Go-QueryUnescape'd as upstream uses it, plus a few targets that are accepted.
set -euo pipefail
cd "$(dirname "$0")"
list=../../shared/testdata/oauth2-proxy-openredirects.txt
mkdir -p corpus/redirect_check corpus/query_insert
python3 - "$list" <<'PY'
import hashlib, sys, urllib.parse
seeds = [
    "https://acme.kustomer.help/login?referralUrl=%2F",
    "https://a.wild.example/x#f",
    "http://127.0.0.1:8081/",
    "https://bücher.example/",
    "http://[::1]:8080/?a=1&",
    "https://port.bar:8080/p?q#frag\nstate value",
]
try:
    with open(sys.argv[1], encoding="utf-8") as f:
        seeds += [urllib.parse.unquote_plus(line.rstrip("\n")) for line in f]
except OSError as e:
    print(f"no peer list ({e}); seeding with the built-in targets only")
for target in ("redirect_check", "query_insert"):
    for seed in seeds:
        data = seed.encode("utf-8", "surrogateescape")
        name = hashlib.sha1(data).hexdigest()
        with open(f"corpus/{target}/{name}", "wb") as out:
            out.write(data)
print(f"{len(seeds)} seeds per target")
PY
