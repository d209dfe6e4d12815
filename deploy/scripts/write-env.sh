#!/usr/bin/env bash
# Writes the .env that deploy/docker-compose.yml reads, from variables in the environment (in GitHub
# Actions: `env:` entries mapped from secrets, so no secret appears in a command line or in the script).
#
#   write-env.sh [-r NAME]... OUTPUT NAME...
#
# Each NAME that is set and not empty becomes one line; an empty one is left out, so the default in
# config.yaml or the compose file applies. `-r NAME` makes NAME required. Two values are filled in from
# this machine unless given: DOCKER_GID (the group of the Docker socket, ${DOCKER_SOCKET:-/var/run/docker.sock})
# and DOCKTAIL_HOST_LABEL (the hostname).
#
# Quoting follows Docker Compose's .env rules: a value goes in single quotes (taken literally: spaces,
# `#`, `$` stay as they are); one holding `'` or `\` goes in double quotes with `\`, `"` and `$`
# escaped. A value with a line break is refused. The file is written with mode 600, then renamed into
# place, so a failed run leaves the previous file.
set -euo pipefail

die() {
  echo "write-env.sh: $*" >&2
  exit 2
}

required=()
while getopts 'r:' opt; do
  case $opt in
    r) required+=("$OPTARG") ;;
    *) die "usage: write-env.sh [-r NAME]... OUTPUT NAME..." ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || die "usage: write-env.sh [-r NAME]... OUTPUT NAME..."
output=$1
shift

# One KEY=value line in compose's .env syntax.
env_line() {
  local name=$1 value=$2
  case $value in
    *$'\n'* | *$'\r'*) die "$name holds a line break, which a .env file cannot carry" ;;
  esac
  if [[ $value != *"'"* && $value != *\\* ]]; then
    printf "%s='%s'\n" "$name" "$value"
  else
    value=${value//\\/\\\\}
    value=${value//\"/\\\"}
    value=${value//\$/\\\$}
    printf '%s="%s"\n' "$name" "$value"
  fi
}

valid_name() {
  [[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "not a variable name: '$1'"
}

# ${a[@]+"${a[@]}"}: an empty array under `set -u` (bash before 4.4 calls it unbound).
for name in ${required[@]+"${required[@]}"}; do
  valid_name "$name"
  [ -n "${!name:-}" ] || die "$name is required but empty or unset (is the secret defined?)"
done

names=(${required[@]+"${required[@]}"} "$@")
lines=()
seen=" "
for name in "${names[@]}"; do
  valid_name "$name"
  case $seen in *" $name "*) continue ;; esac
  seen+="$name "
  value=${!name:-}
  [ -n "$value" ] || continue
  lines+=("$(env_line "$name" "$value")")
done

if [[ $seen != *" DOCKER_GID "* || -z ${DOCKER_GID:-} ]]; then
  socket=${DOCKER_SOCKET:-/var/run/docker.sock}
  if gid=$(stat -c %g "$socket" 2>/dev/null); then
    lines+=("$(env_line DOCKER_GID "$gid")")
  else
    echo "write-env.sh: cannot stat $socket: DOCKER_GID left out (set it, or use a remote engine)" >&2
  fi
fi
if [[ $seen != *" DOCKTAIL_HOST_LABEL "* || -z ${DOCKTAIL_HOST_LABEL:-} ]]; then
  lines+=("$(env_line DOCKTAIL_HOST_LABEL "$(uname -n)")")
fi

dir=$(dirname -- "$output")
mkdir -p -- "$dir"
tmp=$(umask 077 && mktemp "$dir/.env.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
{
  echo "# Written by deploy/scripts/write-env.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ); it is rewritten on each deploy."
  printf '%s\n' "${lines[@]}"
} >"$tmp"
chmod 600 -- "$tmp"
mv -f -- "$tmp" "$output"
trap - EXIT
echo "write-env.sh: wrote ${#lines[@]} variables to $output"
