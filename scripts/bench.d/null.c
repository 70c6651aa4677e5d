/* The floor a CGI can reach: a static C program that prints one header and exits. The
 * benchmark serves it beside webrtc.cgi, from the same Apache, to separate what the web server
 * and fork/exec cost from what webrtc.cgi itself adds. */
#include <unistd.h>

int main(void) {
    static const char answer[] = "Content-Type: text/plain\r\n\r\n";
    /* write(2) directly: stdio would add nothing here but its own setup. */
    return write(1, answer, sizeof answer - 1) == (ssize_t)(sizeof answer - 1) ? 0 : 1;
}
