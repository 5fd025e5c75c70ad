#!/usr/bin/env bash
# Runs the aws test tier (test/aws) against an AWS API emulator, always through AWS_ENDPOINT_URL - the one
# variable the app's AWS SDK clients read (layers/core/src/adapters/aws/clients.ts).
#
#   scripts/aws-tier.sh moto         start moto_server on a free loopback port, run, stop it (default)
#   scripts/aws-tier.sh localstack   docker compose up localstack/ (needs LOCALSTACK_AUTH_TOKEN), run, down
#                                    (KEEP_LOCALSTACK=1 leaves it running)
#   scripts/aws-tier.sh <url>        an emulator already running at <url>
#
# Extra arguments after the first go to vitest, e.g. `scripts/aws-tier.sh moto test/aws/redrive.test.ts`.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:-moto}
shift || true
export AWS_REGION=${AWS_REGION:-us-east-1}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test}
export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}

run_tier() {
  echo "aws tier against ${AWS_ENDPOINT_URL}"
  npx vitest run --project aws "$@"
}

case "$target" in
  moto)
    command -v moto_server >/dev/null || { echo "moto_server not on PATH: pip install 'moto[server]'" >&2; exit 2; }
    port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
    moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
    moto_pid=$!
    trap 'kill "$moto_pid" 2>/dev/null || true' EXIT
    for _ in $(seq 1 100); do
      curl -fsS "http://127.0.0.1:${port}/moto-api/" >/dev/null 2>&1 && break
      sleep 0.2
    done
    export AWS_ENDPOINT_URL="http://127.0.0.1:${port}"
    run_tier "$@"
    ;;
  localstack)
    : "${LOCALSTACK_AUTH_TOKEN:?set LOCALSTACK_AUTH_TOKEN to your LocalStack auth token}"
    compose=(docker compose -f localstack/docker-compose.yml)
    "${compose[@]}" up -d --wait
    if [ "${KEEP_LOCALSTACK:-0}" != 1 ]; then trap '"${compose[@]}" down' EXIT; fi
    export AWS_ENDPOINT_URL=http://localhost:4566
    run_tier "$@"
    ;;
  http://* | https://*)
    export AWS_ENDPOINT_URL=$target
    run_tier "$@"
    ;;
  *)
    echo "usage: $0 [moto|localstack|<endpoint url>] [vitest args...]" >&2
    exit 2
    ;;
esac
