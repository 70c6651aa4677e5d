fn main() {
    print!("Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nwebrtc-cgi skeleton\n");
}
