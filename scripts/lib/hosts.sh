#!/usr/bin/env bash
# Helpers shared by the scripts that run webrtc.cgi behind a private web server other than the
# plain Apache of apache.sh (nginx.sh, lighttpd.sh, suexec.sh): finding accounts, waiting for
# a port, starting a background daemon with a pid file, stopping it with everything it
# started, the command line they all have (hosts_main) and the web folder two of them write. Source it; it defines functions only and changes no shell option.
#
# Nothing here touches anything outside the instance folder a caller names, except the
# processes it started itself (found by pid file or by the instance folder in their
# SCRIPT_FILENAME).

HOSTS_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

hosts_log() {
    echo "${HOSTS_NAME:-hosts}: $*" >&2
}

hosts_die() {
    hosts_log "$*"
    exit 1
}

# Runs a command as root: directly when we are root, through sudo otherwise.
hosts_as_root() {
    if [[ "$(id -u)" == 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        hosts_die "need root to run: $* (sudo is not available)"
    fi
}

# Installs Debian packages that are missing (given as "command-or-path:package" pairs).
hosts_install() {
    local pair wanted=()
    for pair in "$@"; do
        if ! command -v "${pair%%:*}" >/dev/null 2>&1 && [[ ! -e "${pair%%:*}" ]]; then
            wanted+=("${pair#*:}")
        fi
    done
    ((${#wanted[@]} > 0)) || return 0
    hosts_apt_install "${wanted[@]}"
}

# Installs Debian packages with apt-get, starting none of the services they bring.
hosts_apt_install() {
    command -v apt-get >/dev/null 2>&1 \
        || hosts_die "missing $*; install them with your package manager"
    hosts_log "installing $* with apt-get"
    hosts_as_root apt-get update
    # The packages register system services, which would start listening on port 80 for
    # everyone. Only the binaries are used here, so Debian's policy hook refuses every start
    # for the time of the install (unless the machine already has such a policy).
    local policy=/usr/sbin/policy-rc.d placed=no
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\nexit 101\n' | hosts_as_root tee "$policy" >/dev/null
        hosts_as_root chmod 755 "$policy"
        placed=yes
    fi
    local status=0
    hosts_as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "$@" || status=$?
    if [[ "$placed" == yes ]]; then
        hosts_as_root rm -f "$policy"
    fi
    return "$status"
}

# The account the server's children run as: ourselves, or the distribution's web server
# account when we are root (the servers refuse to run programs as root).
hosts_run_user() {
    if [[ "$(id -u)" != 0 ]]; then
        id -un
        return
    fi
    local user
    for user in www-data apache http daemon nobody; do
        if id -u "$user" >/dev/null 2>&1; then
            echo "$user"
            return
        fi
    done
    hosts_die "running as root, but no unprivileged account (www-data, apache, nobody) exists"
}

# Waits until 127.0.0.1:PORT accepts connections.
hosts_wait_listening() {
    local port="$1" tries
    for ((tries = 0; tries < 100; tries++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# Prints the pid in FILE when that process is alive.
hosts_pid() {
    local pid_file="$1" pid
    [[ -s "$pid_file" ]] || return 1
    pid="$(<"$pid_file")"
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
        echo "$pid"
        return 0
    fi
    return 1
}

# hosts_daemon PID_FILE LOG COMMAND...: starts COMMAND as the server account, in its own
# session (so that it and everything it forks can be stopped as one process group), and
# writes its pid.
hosts_daemon() {
    local pid_file="$1" log="$2"
    shift 2
    local as_user=()
    if [[ "$(id -u)" == 0 ]]; then
        as_user=(runuser -u "$(hosts_run_user)" --)
    fi
    setsid "${as_user[@]}" "$@" </dev/null >>"$log" 2>&1 &
    echo "$!" >"$pid_file"
}

# Kills the running CGI processes of an instance (found by a SCRIPT_FILENAME under DIR), so
# that a held event stream does not keep a server's shutdown waiting.
hosts_kill_cgi() {
    local dir="$1" environ pid
    for environ in /proc/[0-9]*/environ; do
        if { tr '\0' '\n' <"$environ"; } 2>/dev/null | grep -q "^SCRIPT_FILENAME=$dir/"; then
            pid="${environ#/proc/}"
            pid="${pid%/environ}"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
}

# Stops the process in PID_FILE and its process group, waiting up to 5 s before killing.
hosts_stop_pid() {
    local pid_file="$1" pid tries
    pid="$(hosts_pid "$pid_file")" || return 0
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((tries = 0; tries < 50; tries++)); do
        kill -0 "$pid" 2>/dev/null || {
            rm -f "$pid_file"
            return 0
        }
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pid_file"
}

# hosts_app_files APP_DIR BINARY SETTINGS: puts the executable (and webrtc.json, when SETTINGS
# is not empty) into APP_DIR with the modes a host wants (755 for the program, 644 for files).
hosts_app_files() {
    local app_dir="$1" binary="$2" settings="$3"
    [[ -x "$binary" ]] || hosts_die "no executable at $binary (run scripts/build first)"
    mkdir -p "$app_dir"
    chmod 755 "$app_dir"
    install -m 755 "$binary" "$app_dir/webrtc.cgi"
    if [[ -n "$settings" ]]; then
        printf '%s\n' "$settings" >"$app_dir/webrtc.json"
        chmod 644 "$app_dir/webrtc.json"
    fi
}

# hosts_take_option ARGS...: takes one of the options every server script has (--dir, --port,
# --settings JSON, --no-settings, --binary PATH) into the caller's local variables of those
# names (dir, port, settings, settings_given, binary), and sets HOSTS_SHIFT to how many
# arguments it used: 0 when the first argument is not one of them.
hosts_take_option() {
    HOSTS_SHIFT=2
    case "$1" in
        --dir) dir="$2" ;;
        --port) port="$2" ;;
        --settings) settings="$2"; settings_given=yes ;;
        --no-settings) settings=""; settings_given=yes; HOSTS_SHIFT=1 ;;
        --binary) binary="$2" ;;
        *) HOSTS_SHIFT=0 ;;
    esac
}

# hosts_main NAME ARGS...: the command line every server script has:
#   NAME up|down|install [--dir DIR] [--port PORT] [--settings JSON | --no-settings]
#        [--binary PATH] and the script's own options.
# The script NAME.sh supplies the functions that are its own:
#   NAME_option ARGS...  takes one of its options into the variables its NAME_main declared
#                        local (bash's scoping lets them reach here), and sets HOSTS_SHIFT to
#                        how many arguments it used: 0 when the option is not its own;
#   NAME_install, NAME_stop DIR;
#   NAME_up              checks its options, stops any old instance of DIR, writes and starts
#                        the new one, with dir, port, settings (by default a data_dir in
#                        DIR/state) and binary set; it leaves the executable's URL path in
#                        DIR/run/url-path.
#   NAME_command COMMAND (optional) runs a command other than these three.
# up prints the executable's URL.
hosts_main() {
    local name="$1"
    shift
    local command="${1:-}"
    [[ $# -gt 0 ]] && shift
    local dir="" port="" settings="" settings_given=no
    local binary="$HOSTS_REPO_ROOT/target/dist/webrtc.cgi"
    while [[ $# -gt 0 ]]; do
        hosts_take_option "$@"
        ((HOSTS_SHIFT > 0)) || "${name}_option" "$@"
        ((HOSTS_SHIFT > 0)) || hosts_die "unknown argument: $1"
        shift "$HOSTS_SHIFT"
    done
    local commands="up, down, install"
    if declare -F "${name}_command" >/dev/null; then
        commands+=", $("${name}_command" --list)"
    fi
    if [[ "$command" != install && -z "$dir" ]]; then
        hosts_die "usage: $0 ${commands//, /|} --dir DIR [--port PORT] ..."
    fi
    case "$command" in
        install) "${name}_install" ;;
        up)
            [[ -n "$port" ]] || hosts_die "up needs --port"
            [[ "$dir" == /* ]] || hosts_die "the instance folder must be an absolute path: $dir"
            [[ "$port" =~ ^[0-9]+$ ]] || hosts_die "not a port number: $port"
            if [[ "$settings_given" == no ]]; then
                settings="{\"data_dir\": \"$dir/state/webrtc-data\"}"
            fi
            "${name}_up"
            echo "http://127.0.0.1:$port$(<"$dir/run/url-path")"
            ;;
        down) "${name}_stop" "$dir" ;;
        *)
            if [[ ", $commands, " == *", $command, "* ]]; then
                "${name}_command" "$command"
            else
                hosts_die "unknown command: $command ($commands)"
            fi
            ;;
    esac
}

# hosts_web_folder DIR BINARY SETTINGS WRITABLE_PARENT [FOLDER...]: writes DIR from scratch
# (keeping DIR/state, the app's data) as an ordinary web root DIR/htdocs with the executable
# in /video/, and, when we are root, gives the server account DIR/state, the app's folder and
# the FOLDERs of DIR named, and DIR itself when WRITABLE_PARENT is yes (as a hosting
# account's home folder above its web root is). Sets the caller's user and group to that
# account.
hosts_web_folder() {
    local dir="$1" binary="$2" settings="$3" writable_parent="$4"
    shift 4
    rm -rf "$dir/conf" "$dir/run" "$dir/logs" "$dir/htdocs"
    mkdir -p "$dir/conf" "$dir/run" "$dir/logs" "$dir/htdocs" "$dir/state"
    chmod 755 "$dir" "$dir/htdocs"
    hosts_app_files "$dir/htdocs/video" "$binary" "$settings"
    printf '%s\n' "/video/webrtc.cgi" >"$dir/run/url-path"
    user="$(hosts_run_user)"
    group="$(id -gn "$user")"
    [[ "$(id -u)" == 0 ]] || return 0
    # The executable runs as the server account and creates its data folder in DIR/state
    # (the usual data_dir), beside itself, or above the web root when allowed to.
    local owned=("$dir/state" "$dir/htdocs/video") folder
    for folder in "$@"; do
        owned+=("$dir/$folder")
    done
    if [[ "$writable_parent" == yes ]]; then
        owned+=("$dir")
    fi
    chown "$user:$group" "${owned[@]}"
}
