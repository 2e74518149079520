#!/usr/bin/env python3
"""A keep-alive HTTP/1.1 server on 127.0.0.1 that writes every request it
receives to LOG: the request line, each header line, the body's length,
then a blank line. It answers 200 with a 2-byte JSON body (a HEAD gets the
same head without the body). Writes its port to PORTFILE; exits after
LIFETIME seconds (default 60)."""
import socket, sys, threading, time

log_path, port_path = sys.argv[1], sys.argv[2]
lifetime = float(sys.argv[3]) if len(sys.argv) > 3 else 60
lock = threading.Lock()

def serve(c):
    buf = b""
    c.settimeout(lifetime)
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                d = c.recv(65536)
                if not d:
                    return
                buf += d
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            n = 0
            for line in lines[1:]:
                if line.lower().startswith("content-length:"):
                    n = int(line.split(":", 1)[1])
            while len(buf) < n:
                d = c.recv(65536)
                if not d:
                    return
                buf += d
            buf = buf[n:]
            with lock, open(log_path, "a") as f:
                f.write("\n".join(lines) + "\nbody-length: %d\n\n" % n)
            reply = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n"
            if not lines[0].startswith("HEAD "):
                reply += b"{}"
            c.sendall(reply)
    except OSError:
        pass
    finally:
        c.close()

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(256)
open(port_path + ".tmp", "w").write(str(s.getsockname()[1]))
import os
os.rename(port_path + ".tmp", port_path)
end = time.time() + lifetime
s.settimeout(0.2)
while time.time() < end:
    try:
        threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
    except socket.timeout:
        pass
