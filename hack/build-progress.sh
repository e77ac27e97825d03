# Sourced by the builders of the test tools (envtest-assets.sh, alerting-assets.sh): step lines
# "[N/M] …" with how long each step and the whole build took, and a package count every 15 s
# while `go build -v` compiles. The caller sets START=$SECONDS, step=0 and steps.

elapsed() { local s=$((SECONDS - $1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }
begin() { step=$((step + 1)); STEP_START=$SECONDS; echo "[$step/$steps] $*"; }
finish() { echo "[$step/$steps] done in $(elapsed "$STEP_START") (total $(elapsed "$START"))"; }
# progress reads `go build -v` (one package per line, as each is compiled) and prints a line
# every 15 seconds, also while the linker runs silently; other lines (errors) pass through.
progress() {
  local what="$1" total="$2" n=0 last=$SECONDS line
  while :; do
    if IFS= read -r -t 15 line; then
      case "$line" in
        *" "* | *": "*) echo "$line" ;;
        *) n=$((n + 1)) ;;
      esac
    elif [ $? -le 128 ]; then
      break
    fi
    if ((SECONDS - last >= 15)); then
      last=$SECONDS
      echo "      $what: $n of about $total packages compiled, $(elapsed "$STEP_START") elapsed"
    fi
  done
  echo "      $what: $n packages compiled"
}
