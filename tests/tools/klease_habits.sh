#!/usr/bin/env bash
# The klease tool's kubectl, flock(1) and consul-lock habits (issue 15):
# global flags anywhere, per-command help and flags, completions, the man
# page against --help, and exec's --nonblock, -E, --timeout 0, -c, the
# lost-lease status 124, waiting out a down or hung API server, CMD checked
# before the lease is taken, CMD's environment, duration rules and quoting;
# kubectl's connection overrides, list (-A) and delete.
# Usage: klease_habits.sh KLEASE SIMULATOR MAN_PAGE DOCS_MARKDOWN
set -uo pipefail

K=$1
SIM=$2
MAN=$3
DOC=$4
tmp=$(mktemp -d "${TMPDIR:-/tmp}/klease-habits.XXXXXX")
pids=()
. "$(dirname "$0")/lib.sh"
trap kill_all EXIT

step "help: per command, 'help CMD', 'help bogus' is an error"
expect 0 "$K" help get
has out "usage: klease get"
grep -q -- "--identity" "$tmp/out" || fail "get --help lacks --identity (get shows 'you')"
sed '/^Exit status/,$d' "$tmp/out" | grep -q -- "--duration\|--grace\|--margin\|--nonblock" &&
    fail "get's help lists flags that do not apply to get"
expect 0 "$K" exec --help
has out "--nonblock"
has out "--conflict-exit-code"
grep -q -- "--output" "$tmp/out" && fail "exec's help lists --output, which exec does not take"
expect 2 "$K" help bogus
has err "unknown command 'bogus'"
expect 2 "$K" exec demo -o json -- true
has err "exec: --output does not apply to exec (see 'klease exec --help')"
expect 2 "$K" create demo --duration 5s
has err "does not apply to create"
expect 2 "$K" get
has err "missing lease NAME (see 'klease get --help')"
expect 2 "$K" exec demo -c 'true' -- true
expect 2 "$K" exec demo -E 256 -- true
expect 2 "$K" exec demo -E x -- true

step "durations: 1s works, fractions of a second are refused"
expect 2 "$K" claim demo --duration 1.5s
has err "whole seconds"
expect 2 "$K" claim demo --duration 2.9s
expect 2 "$K" exec demo --duration 1500ms -- true

step "completion: bash and zsh, from the same table"
expect 0 "$K" completion bash
cp "$tmp/out" "$tmp/comp.bash"
words=$(bash -c '. "$1"; COMP_WORDS=(klease -n ns exec --no); COMP_CWORD=4; _klease;
    echo "${COMPREPLY[*]}"' _ "$tmp/comp.bash")
[ "$words" = "--nonblock" ] || fail "bash completion of 'exec --no': '$words'"
words=$(bash -c '. "$1"; COMP_WORDS=(klease get --out); COMP_CWORD=2; _klease;
    echo "${COMPREPLY[*]}"' _ "$tmp/comp.bash")
[ "$words" = "--output" ] || fail "bash completion of 'get --out': '$words'"
words=$(bash -c '. "$1"; COMP_WORDS=(klease cl); COMP_CWORD=1; _klease;
    echo "${COMPREPLY[*]}"' _ "$tmp/comp.bash")
[ "$words" = "claim" ] || fail "bash completion of 'cl': '$words'"
expect 0 "$K" completion zsh
has out "#compdef klease"
expect 2 "$K" completion fish

step "the man page and docs/klease.md name every flag of every --help"
[ -s "$MAN" ] || fail "no man page at $MAN"
man_text=$(sed 's/\\-/-/g; s/\\f[BIR]//g' "$MAN")
for c in create get claim vacate exec list delete; do
    "$K" help "$c" >"$tmp/help-$c" || fail "help $c"
    for f in $(grep -o -- '--[a-z][a-z-]*' "$tmp/help-$c" | sort -u); do
        grep -q -- "$f" "$DOC" || fail "docs/klease.md lacks $f ($c --help has it)"
        grep -q -- "$f" <<<"$man_text" || fail "klease.1 lacks $f ($c --help has it)"
    done
done
head -n1 "$MAN" | grep -q '^\.TH KLEASE 1' || fail "klease.1 has no .TH line"
if command -v groff >/dev/null; then
    groff -man -Tutf8 -ww "$MAN" 2>"$tmp/groff.err" >/dev/null
    [ -s "$tmp/groff.err" ] && fail "groff warns: $(head -3 "$tmp/groff.err")"
fi

step "simulator"
start_sim "$tmp/sim"
kc=(--kubeconfig "$KC")

step "global flags before or after the command; -n for --namespace"
expect 0 "$K" --kubeconfig "$KC" -n team create g
has out "lease team/g created"
expect 0 "$K" --kubeconfig "$KC" --namespace team get g
has out "lease: *team/g"
expect 0 "$K" -nteam get g --kubeconfig="$KC"
expect 0 "$K" claim g -n team "${kc[@]}" --identity a --duration 1s
has out "holder: *a (you)"

step "get -o yaml|wide, get --watch prints a line per change"
expect 0 "$K" get g -n team "${kc[@]}" --identity a -o yaml
has out '^holder: "a"$'
has out '^transitions: 1$'
expect 0 "$K" get g -n team "${kc[@]}" -o wide
has out "^NAMESPACE  *NAME  *HOLDER  *TIME-LEFT  *TRANSITIONS"
has out "^team  *g  *a  "
"$K" get w "${kc[@]}" --create --watch >"$tmp/watch.out" 2>"$tmp/watch.err" &
wp=$!
pids+=($wp)
wait_for "$tmp/watch.out" "^default  *w  *<none>" 10
expect 0 "$K" claim w "${kc[@]}" --identity watcher-test
wait_for "$tmp/watch.out" "^default  *w  *watcher-test  " 10
expect 0 "$K" vacate w "${kc[@]}" --identity watcher-test
wait_for "$tmp/watch.out" "^default  *w  *<none>  *-  *1 " 10
# Three changes in a row, far quicker than once a second: a watch sees each.
expect 0 "$K" claim w "${kc[@]}" --identity quick-a
expect 0 "$K" vacate w "${kc[@]}" --identity quick-a
expect 0 "$K" claim w "${kc[@]}" --identity quick-b
wait_for "$tmp/watch.out" "^default  *w  *quick-b  " 10
kill -0 "$wp" 2>/dev/null || fail "get --watch exited by itself"
t_term=$(now_ns)
kill -TERM "$wp" # (SIGINT is ignored by a background job of a script)
wait_exit "$wp" 5
# The bound is generous for a busy machine; SIGTERM keeps its default action.
[ $((($(now_ns) - t_term) / 1000000)) -lt 2000 ] || fail "get --watch took over 2 s to stop"
[ "$rc" = 143 ] || fail "get --watch on SIGTERM: status $rc, want 143"
[ "$(grep -c '^NAMESPACE' "$tmp/watch.out")" = 1 ] || fail "--watch repeated its header"
holders=$(awk '/^default/ { printf "%s/%s ", $3, $5 }' "$tmp/watch.out")
[ "$holders" = "<none>/0 watcher-test/1 <none>/1 quick-a/2 <none>/2 quick-b/3 " ] ||
    fail "--watch: not one line per change, in order: $holders"

step "exec -c runs a shell string; the state line keeps its quoting; CMD's environment"
expect 3 "$K" exec env "${kc[@]}" --create --identity me -c \
    'echo "lease=$KLEASE_LEASE ns=$KLEASE_NAMESPACE name=$KLEASE_NAME id=$KLEASE_IDENTITY token=$KLEASE_FENCING_TOKEN"; exit 3'
has out "lease=default/env ns=default name=env id=me token=1"
expect 3 "$K" exec env "${kc[@]}" --identity you -- sh -c 'echo in cmd; exit 3'
has err "starting: sh -c 'echo in cmd; exit 3'"
# Each new holder gets a larger token: leaseTransitions counts holder changes.
expect 0 "$K" exec env "${kc[@]}" --identity me --command='echo "token=$KLEASE_FENCING_TOKEN"'
has out "token=3"
# Words with quotes and $: the state line is shell input that gives back the
# same words, and its quoting uses no backslash (state lines escape those).
expect 0 "$K" exec env "${kc[@]}" --identity you -- printf '%s|' "it's" 'say "hi" $HOME' "x'\"y"
line=$(sed -n "s/.*starting: //p" "$tmp/err" | tail -n 1)
eval "set -- $line"
[ "$#" = 5 ] && [ "$2" = '%s|' ] && [ "$3" = "it's" ] && [ "$4" = 'say "hi" $HOME' ] &&
    [ "$5" = "x'\"y" ] || fail "state line does not quote CMD back: $line"

step "exec: CMD is checked before the lease is taken (127, 126)"
expect 127 "$K" exec fresh "${kc[@]}" --create -- "$tmp/no-such-command"
has err "command not found; not taking the lease"
expect 127 "$K" exec fresh "${kc[@]}" --create -- no-such-command-on-path
touch "$tmp/not-executable"
expect 126 "$K" exec fresh "${kc[@]}" --create -- "$tmp/not-executable"
expect 126 "$K" exec fresh "${kc[@]}" --create -- "$tmp"
expect 5 "$K" get fresh "${kc[@]}" # never created: klease did not touch the lease

step "exec --nonblock, --timeout 0 and -E when the lease is held"
expect 0 "$K" claim held "${kc[@]}" --create --identity holder --duration 60s
t0=$(now_ms)
expect 1 "$K" exec held "${kc[@]}" --identity w --nonblock -- touch "$tmp/ran"
has err "held by holder; not waiting (--nonblock)"
expect 1 "$K" exec held "${kc[@]}" --identity w --timeout 0 -- touch "$tmp/ran"
expect 75 "$K" exec held "${kc[@]}" --identity w --nonblock -E 75 -- touch "$tmp/ran"
expect 9 "$K" exec held "${kc[@]}" --identity w --timeout 1s -E 9 -- touch "$tmp/ran"
took=$(($(now_ms) - t0))
# Three tries that must not wait plus one 1 s timeout; 15 s allows slow builds.
[ "$took" -lt 15000 ] || fail "--nonblock waited: $took ms"
[ -e "$tmp/ran" ] && fail "exec ran its command without the lease"
expect 0 "$K" exec free "${kc[@]}" --create --identity w --timeout 0 -- touch "$tmp/ran"
[ -e "$tmp/ran" ] || fail "--timeout 0 did not acquire a free lease"
expect 0 "$K" exec free "${kc[@]}" --identity w --duration 1s -- true

step "exec: a lost lease exits 124, whatever CMD's own status"
"$K" exec lost "${kc[@]}" --create --identity keeper --duration 6s --grace 4s --kill-after 1s \
    -- sh -c 'trap "exit 0" TERM; while :; do sleep 0.05; done' 2>"$tmp/lost.err" &
lp=$!
pids+=($lp)
wait_for "$tmp/lost.err" "acquired lease default/lost as keeper" 10
stolen=0
for _ in 1 2 3 4 5; do
    "$K" vacate lost "${kc[@]}" --identity keeper >/dev/null 2>&1
    if "$K" claim lost "${kc[@]}" --identity thief --duration 30s >/dev/null 2>&1; then
        stolen=1
        break
    fi
done
[ "$stolen" = 1 ] || fail "could not take the lease from the keeper"
wait_exit "$lp" 20
[ "$rc" = 124 ] || fail "lost lease: status $rc, want 124"
grep -q "exiting with status 124" "$tmp/lost.err" || fail "no line says why 124"

step "exec waits out a stopped API server, one line per kind of error"
port=$SIM_PORT
kill -TERM "${pids[0]}"
wait "${pids[0]}" 2>/dev/null
"$K" exec down "${kc[@]}" --create --identity d --request-timeout 1s -- echo ran-after-outage \
    >"$tmp/down.out" 2>"$tmp/down.err" &
dp=$!
pids+=($dp)
wait_for "$tmp/down.err" "retrying until it answers" 10
sleep 2 # a few more tries: still one line
[ "$(grep -c 'retrying' "$tmp/down.err")" = 1 ] || fail "more than one line for one kind of error"
kill -0 "$dp" 2>/dev/null || fail "exec gave up while the server was down"
"$SIM" --workdir "$tmp/sim" --port "$port" >"$tmp/sim2.out" 2>"$tmp/sim2.err" &
pids+=($!)
wait_exit "$dp" 30
[ "$rc" = 0 ] || fail "exec after the outage: status $rc, want 0"
grep -q ran-after-outage "$tmp/down.out" || fail "CMD did not run after the outage"

step "exec waits out a server that hangs, and --timeout ends any wait"
start_sim "$tmp/hang" --fault '{"kind":"hang","count":2}'
expect 0 "$K" exec h --kubeconfig "$KC" --create --identity h --request-timeout 1s -- true
has err "retrying until it answers"
kill -TERM "${pids[-1]}"
t0=$(now_ms)
expect 7 "$K" exec h --kubeconfig "$KC" --identity h --timeout 2s -- true
took=$(($(now_ms) - t0))
[ "$took" -lt 12000 ] || fail "--timeout 2s against a dead server took $took ms"

step "kubectl's connection overrides win over the kubeconfig"
start_sim "$tmp/ov"
tok=$(cat "$tmp/ov/admin-token")
srv="https://127.0.0.1:$SIM_PORT"
# No kubeconfig at all: --server, --token and --certificate-authority suffice.
noconf=(env -u KUBECONFIG HOME="$tmp/no-home")
expect 0 "${noconf[@]}" "$K" --server "$srv" --token "$tok" --certificate-authority "$tmp/ov/ca.crt" \
    create ov
has out "lease default/ov created"
expect 0 "${noconf[@]}" "$K" get ov -s "$srv" --token "$tok" --insecure-skip-tls-verify
expect 3 "${noconf[@]}" "$K" get ov -s "$srv" --token "$tok" # the system CAs do not know the sim's
expect 6 "$K" get ov --kubeconfig "$KC" --token not-the-token # --token replaces the kubeconfig's
# A kubeconfig whose context points at a dead port and a user with a bad
# token: --cluster and --user pick the good entries, --server mends the URL.
sed -e 's/^- name: ksim$/- name: ksim-good/' "$KC" >"$tmp/ov/good.yaml"
cat >"$tmp/ov/multi.yaml" <<YAML
apiVersion: v1
kind: Config
current-context: broken
clusters:
- name: dead
  cluster:
    server: https://127.0.0.1:1
    certificate-authority: $tmp/ov/ca.crt
- name: live
  cluster:
    server: $srv
    certificate-authority: $tmp/ov/ca.crt
users:
- name: wrong
  user:
    token: wrong-token
- name: right
  user:
    token: $tok
contexts:
- name: broken
  context:
    cluster: dead
    user: wrong
- name: fine
  context:
    cluster: live
    user: right
    namespace: team
YAML
expect 3 "$K" get ov --kubeconfig "$tmp/ov/multi.yaml" --request-timeout 2s
expect 0 "$K" get ov --kubeconfig "$tmp/ov/multi.yaml" --cluster live --user right -n default
expect 6 "$K" get ov --kubeconfig "$tmp/ov/multi.yaml" --cluster live -n default
expect 0 "$K" get ov --kubeconfig "$tmp/ov/multi.yaml" --user right -s "$srv" -n default
expect 0 "$K" --kubeconfig "$tmp/ov/multi.yaml" --context fine create in-team
has out "lease team/in-team created"
expect 4 "$K" get ov --kubeconfig "$tmp/ov/multi.yaml" --cluster nope
has err 'the requested cluster "nope" is not defined'

step "list (-A for all namespaces) and delete"
expect 0 "$K" claim l1 --kubeconfig "$KC" --create --identity lister --duration 60s
expect 0 "$K" create l2 --kubeconfig "$KC" -n other
expect 0 "$K" list --kubeconfig "$KC"
has out "^NAMESPACE  *NAME  *HOLDER  *TIME-LEFT  *TRANSITIONS  *AGE"
has out "^default  *l1  *lister  *[0-9.]*s  *1  *[0-9]*s$"
has out "^default  *ov  *<none>  *-  *0 "
grep -q "l2" "$tmp/out" && fail "list without -A showed another namespace's lease"
expect 0 "$K" list --kubeconfig "$KC" -A
has out "^other  *l2 "
has out "^team  *in-team "
expect 0 "$K" list --kubeconfig "$KC" -n other -o json
has out '^{"namespace":"other","name":"l2","held":false,"holder":null'
expect 2 "$K" list l1 --kubeconfig "$KC"
expect 2 "$K" list --kubeconfig "$KC" --field-manager x # list writes nothing
expect 2 "$K" get l1 --kubeconfig "$KC" -A
expect 0 "$K" delete l1 --kubeconfig "$KC"
has out "lease default/l1 deleted"
expect 5 "$K" get l1 --kubeconfig "$KC"
expect 5 "$K" delete l1 --kubeconfig "$KC"
has err "lease default/l1 not found"

echo "PASS"
