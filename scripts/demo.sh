#!/usr/bin/env bash
# The libklease demo: three replicas of a worker share one Lease on a local
# API server simulator; the demo shows who leads, a graceful handover and a
# takeover after the leader is killed.
set -euo pipefail
echo "demo: not yet available: it arrives with the klease tool and the API server simulator."
echo "demo: run scripts/test.sh to build and test what exists today."
