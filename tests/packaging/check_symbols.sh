#!/bin/sh
# Fails when a library exports a symbol that is not klease_*, or carries a
# test seam (the fake clock, the allocation fault-injection switch, the exec
# plugin time-limit hook), which only the internal test library may have.
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
    # All symbols, local ones too (a stripped shared library has none left
    # to name, and then there is nothing to check).
    seams=$(nm "$lib" 2>/dev/null | awk '{print $NF}' |
        grep -E '^klease__(fake_clock_[a-z_]+|alloc_fail_after|alloc_count|alloc_failed_count|exec_plugin_set_timeout_ms)$' |
        sort -u || true)
    if [ -n "$seams" ]; then
        echo "FAIL: $lib carries test seams:"
        printf '  %s\n' $seams
        status=1
    fi
done
exit $status
