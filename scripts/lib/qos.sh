#!/usr/bin/env bash
# Puts an entry-process limit in front of an instance of scripts/lib/apache.sh, as a shared
# host has one: Debian's mod_qos (libapache2-mod-qos) lets at most LIMIT requests for the
# executable run at once and answers the others 508, the status CloudLinux answers over its
# entry-process limit. A Retry-After header can be added to those answers, to see whether the
# client honours it. Only the instance's own generated config is changed.
#
# Use it as a command:
#   scripts/lib/qos.sh install
#       Installs libapache2-mod-qos when it is missing (Debian and Ubuntu).
#   scripts/lib/qos.sh enable --dir DIR [--limit 20] [--retry-after SECONDS]
#       Adds the limiter to DIR/conf/httpd.conf (written by apache.sh up, before it starts).
# or source it (after apache.sh) and call qos_install and qos_enable.
#
# Debian 12's mod_qos.so is linked against the old libpcre without saying so: without a
# LoadFile of libpcre.so.3 first, httpd refuses it ("undefined symbol: pcre_free").

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    # shellcheck source=scripts/lib/apache.sh
    source "$(dirname "${BASH_SOURCE[0]}")/apache.sh"
fi

# Prints the path of mod_qos.so, or fails.
qos_module() {
    apache_find || return 1
    [[ -e "$APACHE_MODULES/mod_qos.so" ]] || return 1
    echo "$APACHE_MODULES/mod_qos.so"
}

# Prints the path of the old PCRE library mod_qos needs, or nothing when there is none.
qos_pcre() {
    local candidate
    for candidate in /usr/lib/x86_64-linux-gnu/libpcre.so.3 /usr/lib/aarch64-linux-gnu/libpcre.so.3 \
        /usr/lib64/libpcre.so.1 /usr/lib/libpcre.so.3; do
        if [[ -e "$candidate" ]]; then
            echo "$candidate"
            return
        fi
    done
}

qos_install() {
    if qos_module >/dev/null; then
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 \
        || apache_die "mod_qos is missing; install it with your package manager (Debian: libapache2-mod-qos)"
    apache_log "mod_qos is missing; installing libapache2-mod-qos with apt-get"
    apache_as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends libapache2-mod-qos \
        || {
            apache_as_root apt-get update
            apache_as_root env DEBIAN_FRONTEND=noninteractive \
                apt-get install -y --no-install-recommends libapache2-mod-qos
        }
    qos_module >/dev/null || apache_die "libapache2-mod-qos was installed but mod_qos.so was not found"
}

# qos_enable DIR LIMIT [RETRY_AFTER]
#   Every request for the executable's path counts: the page, its assets, POSTs and event
#   streams alike are CGI processes, as they are for an entry-process limit.
qos_enable() {
    local dir="$1" limit="${2:-20}" retry_after="${3:-}" module pcre url_path
    [[ -f "$dir/conf/httpd.conf" ]] || apache_die "no instance config at $dir/conf/httpd.conf"
    [[ "$limit" =~ ^[0-9]+$ ]] || apache_die "not a number: $limit"
    module="$(qos_module)" || apache_die "mod_qos not found (run: scripts/lib/qos.sh install)"
    pcre="$(qos_pcre)"
    url_path="$(<"$dir/run/url-path")"
    {
        echo
        echo "# Added by scripts/lib/qos.sh: at most $limit requests for the executable at once."
        [[ -n "$pcre" ]] && echo "LoadFile \"$pcre\""
        echo "LoadModule qos_module \"$module\""
        echo "QS_LocRequestLimitMatch \"^${url_path//./\\.}\" $limit"
        echo "QS_ErrorResponseCode 508"
        if [[ -n "$retry_after" ]]; then
            [[ "$retry_after" =~ ^[0-9]+$ ]] || apache_die "not a number of seconds: $retry_after"
            echo "Header always set Retry-After \"$retry_after\" \"expr=%{REQUEST_STATUS} == 508\""
        fi
    } >>"$dir/conf/httpd.conf"
}

qos_main() {
    local command="${1:-}"
    [[ $# -gt 0 ]] && shift
    local dir="" limit=20 retry_after=""
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --dir) dir="$2"; shift 2 ;;
            --limit) limit="$2"; shift 2 ;;
            --retry-after) retry_after="$2"; shift 2 ;;
            *) apache_die "unknown argument: $1" ;;
        esac
    done
    case "$command" in
        install) qos_install ;;
        enable)
            [[ -n "$dir" ]] || apache_die "usage: $0 enable --dir DIR [--limit N] [--retry-after S]"
            qos_enable "$dir" "$limit" "$retry_after"
            ;;
        *) apache_die "unknown command: $command (install, enable)" ;;
    esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    qos_main "$@"
fi
