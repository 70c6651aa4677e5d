#!/usr/bin/env bash
# Runs webrtc.cgi behind a private Apache httpd 2.4, set up the way a shared host runs it:
# the executable in a folder served as CGI (a ScriptAlias'd cgi-bin, or an ordinary web folder
# that relies on the shipped .htaccess), mod_deflate compressing text responses, and
# AllowOverride so that the shipped .htaccess takes effect.
#
# Everything the server writes (config, pid file, sockets, logs, the app's data) lives in one
# instance folder; nothing outside it is touched, so several instances can run side by side.
#
# Use it as a command:
#   scripts/lib/apache.sh up --dir DIR --port PORT [--layout cgi-bin|docroot]
#                            [--settings JSON | --no-settings] [--no-htaccess] [--binary PATH]
#       Writes DIR from scratch (keeping DIR/state, the app's data), starts Apache on
#       127.0.0.1:PORT and prints the executable's URL.
#   scripts/lib/apache.sh down|graceful|restart --dir DIR
#   scripts/lib/apache.sh install
#       Installs Apache httpd when it is missing (Debian and Ubuntu only).
# or source it and call the apache_* functions.
#
# Environment: APACHE_BIN and APACHE_MODULES override where httpd and its modules are;
# APACHE_CGI=cgi uses the prefork MPM with mod_cgi instead of the event MPM with mod_cgid.

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
fi

APACHE_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HOSTS_NAME="${HOSTS_NAME:-apache}"
# shellcheck source=scripts/lib/hosts.sh
source "$APACHE_REPO_ROOT/scripts/lib/hosts.sh"

# The helpers every server script shares, under the names this script's callers use.
apache_as_root() { hosts_as_root "$@"; }
apache_run_user() { hosts_run_user; }
apache_wait_listening() { hosts_wait_listening "$@"; }
apache_kill_cgi() { hosts_kill_cgi "$@"; }

apache_log() {
    echo "apache: $*" >&2
}

apache_die() {
    apache_log "$*"
    exit 1
}


# Sets APACHE_BIN and APACHE_MODULES, or fails. Debian and Ubuntu call the server apache2;
# Fedora, RHEL and Arch call it httpd.
apache_find() {
    if [[ -z "${APACHE_BIN:-}" ]]; then
        local candidate
        for candidate in /usr/sbin/apache2 /usr/sbin/httpd /usr/bin/httpd; do
            if [[ -x "$candidate" ]]; then
                APACHE_BIN="$candidate"
                break
            fi
        done
    fi
    if [[ -z "${APACHE_MODULES:-}" ]]; then
        local folder
        for folder in /usr/lib/apache2/modules /usr/lib64/httpd/modules /usr/lib/httpd/modules; do
            if [[ -e "$folder/mod_cgid.so" ]]; then
                APACHE_MODULES="$folder"
                break
            fi
        done
    fi
    [[ -n "${APACHE_BIN:-}" && -x "$APACHE_BIN" ]] || return 1
    [[ -n "${APACHE_MODULES:-}" && -e "$APACHE_MODULES/mod_cgid.so" ]] || return 1
    return 0
}

# Installs Apache httpd when it is missing. Only the server binary and its modules are needed,
# so Debian's apache2-bin is installed rather than apache2: the latter would also register and
# start a system-wide service listening on port 80.
apache_install() {
    if apache_find; then
        return 0
    fi
    if command -v apt-get >/dev/null 2>&1; then
        apache_log "Apache httpd is missing; installing it with apt-get"
        apache_as_root apt-get update
        apache_as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y --no-install-recommends apache2-bin media-types
        apache_find || apache_die "apache2-bin was installed but httpd or mod_cgid.so was not found"
        return 0
    fi
    apache_die "Apache httpd 2.4 is missing. Install it with your package manager" \
        "(Fedora/RHEL: 'dnf install httpd', Arch: 'pacman -S apache', macOS: 'brew install httpd')," \
        "then set APACHE_BIN to the httpd binary and APACHE_MODULES to its modules folder if" \
        "they are not in the usual Linux places."
}


# apache_setup DIR PORT LAYOUT SETTINGS HTACCESS BINARY
#   LAYOUT: cgi-bin (ScriptAlias /cgi-bin/) or docroot (an ordinary folder /video/ whose CGI
#   handling comes only from the .htaccess). SETTINGS: the webrtc.json text, or empty for none.
#   HTACCESS: "ship" to copy scripts/deploy/.htaccess beside the executable, "omit" not to.
apache_setup() {
    local dir="$1" port="$2" layout="$3" settings="$4" htaccess="$5" binary="$6"
    [[ "$dir" == /* ]] || apache_die "the instance folder must be an absolute path: $dir"
    [[ "$port" =~ ^[0-9]+$ ]] || apache_die "not a port number: $port"
    [[ -x "$binary" ]] || apache_die "no executable at $binary (run scripts/build first)"
    apache_find || apache_die "Apache httpd not found (run: scripts/lib/apache.sh install)"

    local app_dir url_path handler_config
    case "$layout" in
        cgi-bin)
            app_dir="$dir/cgi-bin"
            url_path="/cgi-bin/webrtc.cgi"
            ;;
        docroot)
            app_dir="$dir/htdocs/video"
            url_path="/video/webrtc.cgi"
            ;;
        *) apache_die "unknown layout: $layout (cgi-bin or docroot)" ;;
    esac

    # The app's data (DIR/state) survives a new setup, so a restarted server keeps its rooms.
    rm -rf "$dir/conf" "$dir/run" "$dir/logs" "$dir/cgi-bin" "$dir/htdocs"
    mkdir -p "$dir/conf" "$dir/run" "$dir/logs" "$dir/htdocs" "$dir/cgi-bin" "$dir/state" "$app_dir"
    # Explicit modes, so a restrictive umask cannot lock httpd's account out.
    chmod 755 "$dir" "$dir/htdocs" "$dir/cgi-bin" "$app_dir"
    install -m 755 "$binary" "$app_dir/webrtc.cgi"
    if [[ "$htaccess" == ship ]]; then
        install -m 644 "$APACHE_REPO_ROOT/scripts/deploy/.htaccess" "$app_dir/.htaccess"
    fi
    if [[ -n "$settings" ]]; then
        printf '%s\n' "$settings" >"$app_dir/webrtc.json"
        chmod 644 "$app_dir/webrtc.json"
    fi

    local user group
    user="$(apache_run_user)"
    group="$(id -gn "$user")"
    if [[ "$(id -u)" == 0 ]]; then
        # The executable runs as this account and must be able to create its data folder:
        # either in DIR/state (the usual data_dir) or beside itself (the default webrtc-data).
        chown "$user:$group" "$dir/state" "$app_dir"
    fi

    local mpm_module cgi_module cgi_config
    apache_choose_mpm "$dir"

    local user_config=""
    if [[ "$(id -u)" == 0 ]]; then
        user_config="User $user
Group $group"
    fi

    local types_config=/dev/null
    if [[ -r /etc/mime.types ]]; then
        types_config=/etc/mime.types
    fi

    handler_config=""
    if [[ "$layout" == cgi-bin ]]; then
        handler_config="ScriptAlias /cgi-bin/ \"$dir/cgi-bin/\""
    fi

    cat >"$dir/conf/httpd.conf" <<EOF
# Generated by scripts/lib/apache.sh; rewritten on every start.
$(apache_config_head "$dir" "$port" "$mpm_module" "$cgi_module")

$user_config
$cgi_config
# Apache's default: a CGI silent for this long is killed, which the SSE comments must prevent.
Timeout 60
KeepAlive On
TypesConfig "$types_config"

# start= is the request's arrival in ms since the epoch, to place requests on a browser's timeline.
LogFormat "%h %t \"%r\" %>s %b %Dus enc=%{Content-Encoding}o start=%{msec}t" timed
CustomLog "$dir/logs/access.log" timed

# Shared hosts compress text responses; event-stream is listed too because some do, and it is
# exactly the case the shipped .htaccess must switch off.
AddOutputFilterByType DEFLATE text/html text/plain text/css text/javascript application/javascript application/json text/event-stream

DocumentRoot "$dir/htdocs"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
# An ordinary web folder as hosts configure it: listings on, CGI programs allowed (cPanel's
# default), but no handler for them unless the .htaccess adds one.
<Directory "$dir/htdocs">
    Options Indexes FollowSymLinks ExecCGI
    AllowOverride All
    Require all granted
</Directory>
$handler_config
<Directory "$dir/cgi-bin">
    Options SymLinksIfOwnerMatch
    AllowOverride All
    Require all granted
</Directory>
EOF

    printf '%s\n' "$url_path" >"$dir/run/url-path"
    apache_check_access "$dir" "$app_dir" "$user"
}

# apache_choose_mpm DIR: sets the caller's mpm_module, cgi_module and cgi_config: the event
# MPM with mod_cgid, or (APACHE_CGI=cgi) the prefork MPM with mod_cgi.
apache_choose_mpm() {
    local dir="$1"
    if [[ "${APACHE_CGI:-cgid}" == cgi ]]; then
        mpm_module=mpm_prefork
        cgi_module=cgi
        cgi_config="StartServers 2
MaxRequestWorkers 60"
    else
        mpm_module=mpm_event
        cgi_module=cgid
        cgi_config="ScriptSock \"$dir/run/cgid.sock\"
StartServers 2
ThreadsPerChild 25
MaxRequestWorkers 100"
    fi
}

# apache_config_head DIR PORT MODULE...: prints the start of an instance's httpd.conf: its
# files in DIR, 127.0.0.1:PORT, and the LoadModule lines of the MODULEs and the usual ones.
apache_config_head() {
    local dir="$1" port="$2"
    shift 2
    cat <<EOF
ServerRoot "$dir"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile "$dir/run/httpd.pid"
DefaultRuntimeDir "$dir/run"
Mutex file:$dir/run default
ErrorLog "$dir/logs/error.log"
LogLevel warn

$(apache_load_modules "$@")
EOF
}

# Prints the LoadModule lines for the modules a shared host typically has, skipping those
# compiled into this httpd (loading a built-in module is a fatal error).
apache_load_modules() {
    local built_in name
    built_in="$("$APACHE_BIN" -l)"
    for name in "$@" unixd authz_core authz_host access_compat log_config mime alias dir \
        autoindex env setenvif rewrite headers filter deflate; do
        if grep -q "^ *mod_$name\.c\$" <<<"$built_in"; then
            continue
        fi
        echo "LoadModule ${name}_module \"$APACHE_MODULES/mod_$name.so\""
    done
}

# Prints the folder under which instance folders go: build/ in the repository, unless httpd's
# account cannot reach it (running as root from a private home folder), then a temp folder.
apache_instances_root() {
    local preferred="$APACHE_REPO_ROOT/build" user
    mkdir -p "$preferred"
    if [[ "$(id -u)" != 0 ]] || ! command -v runuser >/dev/null 2>&1; then
        echo "$preferred"
        return
    fi
    user="$(apache_run_user)"
    if runuser -u "$user" -- test -x "$preferred"; then
        echo "$preferred"
        return
    fi
    local fallback="${TMPDIR:-/tmp}/webrtc-cgi-build"
    mkdir -p "$fallback"
    chmod 755 "$fallback"
    echo "$fallback"
}

# httpd's children (and the executable) run as the server account; when we are root that is
# another account, which must be able to reach the instance folder.
apache_check_access() {
    local dir="$1" app_dir="$2" user="$3"
    if [[ "$(id -u)" != 0 ]] || ! command -v runuser >/dev/null 2>&1; then
        return 0
    fi
    if ! runuser -u "$user" -- test -x "$app_dir/webrtc.cgi" \
        || ! runuser -u "$user" -- test -w "$dir/state"; then
        apache_die "the account '$user' that Apache runs the executable as cannot reach $dir" \
            "(a parent folder is probably private); use an instance folder it can reach," \
            "for example under /tmp"
    fi
}

apache_pid() {
    hosts_pid "$1/run/httpd.pid"
}

apache_port() {
    sed -n 's/^Listen 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$1/conf/httpd.conf"
}

apache_url() {
    echo "http://127.0.0.1:$(apache_port "$1")$(<"$1/run/url-path")"
}


apache_start() {
    local dir="$1" port
    apache_find || apache_die "Apache httpd not found (run: scripts/lib/apache.sh install)"
    port="$(apache_port "$dir")"
    if ! "$APACHE_BIN" -f "$dir/conf/httpd.conf" -k start; then
        tail -n 20 "$dir/logs/error.log" >&2 2>/dev/null || true
        apache_die "httpd did not start (config: $dir/conf/httpd.conf)"
    fi
    if ! apache_wait_listening "$port"; then
        tail -n 20 "$dir/logs/error.log" >&2 2>/dev/null || true
        apache_stop "$dir"
        apache_die "httpd is not listening on 127.0.0.1:$port"
    fi
}


# Stops the instance and waits until its main process is gone. TERM is repeated because httpd
# ignores it while it is in the middle of a restart; a server that never stops is killed
# together with its children, so no orphaned worker keeps serving.
apache_stop() {
    local dir="$1" pid tries children
    pid="$(apache_pid "$dir")" || return 0
    for ((tries = 0; tries < 100; tries++)); do
        if ((tries % 10 == 0)); then
            kill -TERM "$pid" 2>/dev/null || true
            apache_kill_cgi "$dir"
        fi
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    apache_log "httpd $pid did not stop within 10 s; killing it and its children"
    children="$(ps -o pid= --ppid "$pid" || true)"
    kill -KILL "$pid" 2>/dev/null || true
    for pid in $children; do
        kill -KILL "$pid" 2>/dev/null || true
    done
}

apache_generations() {
    grep -c 'AH00489' "$1/logs/error.log" 2>/dev/null || true
}

# A graceful restart lets running requests (held SSE responses) finish; a plain restart ends
# them at once, as a host restarting its server does. Either way this returns once the new
# generation of the server has announced that it is running.
apache_signal() {
    local dir="$1" action="$2" before tries
    apache_pid "$dir" >/dev/null || apache_die "no running httpd for $dir"
    apache_find || apache_die "Apache httpd not found"
    before="$(apache_generations "$dir")"
    "$APACHE_BIN" -f "$dir/conf/httpd.conf" -k "$action"
    # httpd waits up to about 10 s for busy children (held streams) before killing them.
    for ((tries = 0; tries < 300; tries++)); do
        if (($(apache_generations "$dir") > before)); then
            apache_wait_listening "$(apache_port "$dir")" && return 0
        fi
        sleep 0.1
    done
    apache_die "httpd did not come back after $action"
}

apache_main() {
    local layout=cgi-bin htaccess=ship
    hosts_main apache "$@"
}

apache_option() {
    HOSTS_SHIFT=1
    case "$1" in
        --layout) layout="$2"; HOSTS_SHIFT=2 ;;
        --no-htaccess) htaccess=omit ;;
        *) HOSTS_SHIFT=0 ;;
    esac
}

apache_up() {
    apache_stop "$dir"
    apache_setup "$dir" "$port" "$layout" "$settings" "$htaccess" "$binary"
    apache_start "$dir"
}

# The commands apache.sh has beyond up, down and install (--list names them).
apache_command() {
    case "$1" in
        --list) echo "graceful, restart" ;;
        *) apache_signal "$dir" "$1" ;;
    esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    apache_main "$@"
fi
