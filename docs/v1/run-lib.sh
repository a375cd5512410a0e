# Sourced by the docs/v1/run-*.sh scripts: one logged, sequential run of the onerun CLI.
#   run NAME SUBCOMMAND ARGS...  →  $OUT/NAME.json (stdout), $OUT/NAME.err (stderr), --out $OUT/NAME
# Needs APP (a built checkout of the app) and OUT set by the caller.
run() {
  name=$1; sub=$2; shift 2
  echo "$(date -u +%T) start $name: $sub $*"
  node "$APP/apps/trainer/dist/cli.js" "$sub" --quiet --json --out "$OUT/$name" "$@" \
    > "$OUT/$name.json" 2> "$OUT/$name.err"
  echo "$(date -u +%T) end $name rc=$?"
}
