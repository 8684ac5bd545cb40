#!/bin/sh
# Fails when a library exports a symbol that is not klease_*.
# Usage: check_symbols.sh LIBRARY...
set -eu
status=0
for lib in "$@"; do
    case "$lib" in
    *.a) syms=$(nm -g --defined-only "$lib" | awk 'NF==3 {print $3}') ;;
    *) syms=$(nm -D --defined-only "$lib" | awk 'NF==3 {print $3}') ;;
    esac
    count=$(printf '%s\n' "$syms" | grep -c . || true)
    bad=$(printf '%s\n' "$syms" | grep -v '^klease_' | grep . || true)
    if [ "$count" -eq 0 ]; then
        echo "FAIL: $lib exports no symbols at all"
        status=1
    elif [ -n "$bad" ]; then
        echo "FAIL: $lib exports symbols without the klease_ prefix:"
        printf '  %s\n' $bad
        status=1
    else
        case "$lib" in
        *.a) echo "ok: $lib: $count global symbols, all klease_*" ;;
        *) echo "ok: $lib: $count exported symbols, all klease_*" ;;
        esac
        # A shared library must not export the internal klease__ helpers.
        case "$lib" in
        *.a) ;;
        *)
            internal=$(printf '%s\n' "$syms" | grep '^klease__' || true)
            if [ -n "$internal" ]; then
                echo "FAIL: $lib exports internal symbols: $internal"
                status=1
            fi
            ;;
        esac
    fi
done
exit $status
