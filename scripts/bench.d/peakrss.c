/* Runs one program and reports its peak resident set size (VmHWM) as the kernel saw it just
 * before the program exited.
 *
 *   peakrss REPORT_FILE UID GID PROGRAM [ARG...]
 *
 * The program runs as UID:GID with the environment, stdin and stdout of this helper. When it
 * ends, REPORT_FILE receives "vmhwm_kib N vmrss_kib N status N".
 *
 * Why not getrusage or /usr/bin/time: ru_maxrss also counts the pages the forked parent had
 * mapped before exec, so a helper bigger than the program inflates the figure. Stopping the
 * program at its exit (PTRACE_O_TRACEEXIT) and reading /proc/PID/status measures only the
 * program's own address space; the tracer stops it only at exec and at exit. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static long status_field(pid_t pid, const char *name) {
    char path[64], line[256];
    size_t length = strlen(name);
    long value = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *file = fopen(path, "r");
    if (!file) return -1;
    while (fgets(line, sizeof line, file)) {
        if (strncmp(line, name, length) == 0 && line[length] == ':') {
            value = strtol(line + length + 1, NULL, 10);
            break;
        }
    }
    fclose(file);
    return value;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: peakrss REPORT_FILE UID GID PROGRAM [ARG...]\n");
        return 2;
    }
    const char *report = argv[1];
    uid_t uid = (uid_t)strtoul(argv[2], NULL, 10);
    gid_t gid = (gid_t)strtoul(argv[3], NULL, 10);

    pid_t child = fork();
    if (child < 0) {
        perror("peakrss: fork");
        return 2;
    }
    if (child == 0) {
        if (getuid() == 0) {
            if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
                perror("peakrss: switching user");
                _exit(127);
            }
        }
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) {
            perror("peakrss: ptrace");
            _exit(127);
        }
        execv(argv[4], argv + 4);
        perror("peakrss: exec");
        _exit(127);
    }

    long hwm = -1, rss = -1;
    int options_set = 0, status = 0;
    for (;;) {
        if (waitpid(child, &status, 0) < 0) {
            if (errno == EINTR) continue;
            perror("peakrss: waitpid");
            return 2;
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) break;
        if (!WIFSTOPPED(status)) continue;
        int signal_number = WSTOPSIG(status);
        int deliver = 0;
        if (signal_number == SIGTRAP && !options_set) {
            /* The stop after exec: from here on, stop once more at exit. */
            ptrace(PTRACE_SETOPTIONS, child, NULL, (void *)(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL));
            options_set = 1;
        } else if (signal_number == SIGTRAP && (status >> 16) == PTRACE_EVENT_EXIT) {
            hwm = status_field(child, "VmHWM");
            rss = status_field(child, "VmRSS");
        } else if (signal_number != SIGTRAP) {
            deliver = signal_number;
        }
        ptrace(PTRACE_CONT, child, NULL, (void *)(long)deliver);
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    FILE *out = fopen(report, "w");
    if (!out) {
        perror("peakrss: report file");
        return 2;
    }
    fprintf(out, "vmhwm_kib %ld vmrss_kib %ld status %d\n", hwm, rss, code);
    fclose(out);
    return code;
}
