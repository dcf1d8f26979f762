# A WebSocket echo server from Python's standard library alone (RFC 6455: handshake,
# masked client frames, unfragmented text and binary), for the node proxy's tests.
import base64, hashlib, socket, threading

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

def recv_exactly(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            raise EOFError
        b += d
    return b

def handle(c):
    req = b""
    while b"\r\n\r\n" not in req:
        req += c.recv(1024)
    key = [l.split(b":", 1)[1].strip() for l in req.split(b"\r\n") if l.lower().startswith(b"sec-websocket-key")][0]
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
    while True:
        h = recv_exactly(c, 2)
        op, n = h[0] & 15, h[1] & 127
        if n == 126:
            n = int.from_bytes(recv_exactly(c, 2), "big")
        elif n == 127:
            n = int.from_bytes(recv_exactly(c, 8), "big")
        mask = recv_exactly(c, 4) if h[1] & 128 else b"\0\0\0\0"
        data = bytes(x ^ mask[i % 4] for i, x in enumerate(recv_exactly(c, n)))
        if op == 8:
            c.sendall(b"\x88\x00")
            return
        if op in (1, 2):
            out = b"echo:" + data if op == 1 else data
            head = bytes([0x80 | op]) + (bytes([len(out)]) if len(out) < 126 else bytes([126]) + len(out).to_bytes(2, "big"))
            c.sendall(head + out)

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8765))
s.listen()
while True:
    conn, _ = s.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
