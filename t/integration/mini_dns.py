"""A tiny UDP DNS responder for the integration tests.

Answers A queries for configured names (exact, or wildcard `*.test` matching any name below
`test`) with a configured IPv4 address, answers other query types for a known name with an empty
NOERROR, and everything else with NXDOMAIN.  Every query is recorded so tests can prove the
module really asked (i.e. its asynchronous resolver path ran).

    dns = MiniDNS({"*.test": "127.0.0.1"}).start()
    ... resolver 127.0.0.1:{dns.port} ...
    dns.queries  -> [("mock-a.test", 1), ...]
    dns.stop()

Stdlib only.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from typing import Optional

QTYPE_A = 1
QTYPE_AAAA = 28


def _parse_name(data: bytes, off: int) -> tuple[str, int]:
    labels = []
    jumps = 0
    end = None
    while True:
        if off >= len(data):
            raise ValueError("truncated name")
        n = data[off]
        if n == 0:
            off += 1
            break
        if n & 0xC0 == 0xC0:  # compression pointer (not expected in queries, handled anyway)
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | data[off + 1]
            jumps += 1
            if jumps > 16:
                raise ValueError("pointer loop")
            continue
        labels.append(data[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    return ".".join(labels), (end if end is not None else off)


class MiniDNS:
    def __init__(self, records: Optional[dict] = None, host: str = "127.0.0.1", port: int = 0,
                 ttl: int = 5):
        """records: name -> IPv4 string; a name "*.zone" matches every name under zone."""
        self.records = {k.lower().rstrip("."): v for k, v in (records or {}).items()}
        self.host = host
        self.ttl = ttl
        self.queries: list[tuple[str, int]] = []
        self.errors: list[str] = []
        self.silent: set[str] = set()   # names whose queries get no answer at all (timeouts)
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, port))
        self._sock.settimeout(0.1)
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]

    def start(self) -> "MiniDNS":
        self._thread = threading.Thread(target=self._loop, name="mini-dns", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
        self._sock.close()

    def __enter__(self) -> "MiniDNS":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def set(self, name: str, ip: Optional[str]) -> None:
        with self._lock:
            if ip is None:
                self.records.pop(name.lower(), None)
            else:
                self.records[name.lower()] = ip

    def lookup(self, name: str) -> Optional[str]:
        name = name.lower().rstrip(".")
        with self._lock:
            if name in self.records:
                return self.records[name]
            parts = name.split(".")
            for i in range(1, len(parts)):
                wild = "*." + ".".join(parts[i:])
                if wild in self.records:
                    return self.records[wild]
        return None

    def queried(self, name: str) -> int:
        with self._lock:
            return sum(1 for n, _ in self.queries if n == name.lower())

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self._sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                resp = self._answer(data)
            except Exception as e:  # malformed query: record and ignore
                with self._lock:
                    self.errors.append(f"{type(e).__name__}: {e}")
                continue
            if resp:
                try:
                    self._sock.sendto(resp, addr)
                except OSError:
                    pass

    def _answer(self, data: bytes) -> bytes:
        if len(data) < 12:
            raise ValueError("short packet")
        qid, flags, qdcount, _an, _ns, _ar = struct.unpack("!HHHHHH", data[:12])
        if qdcount < 1:
            raise ValueError("no question")
        name, off = _parse_name(data, 12)
        qtype, qclass = struct.unpack("!HH", data[off:off + 4])
        question = data[12:off + 4]
        with self._lock:
            self.queries.append((name.lower(), qtype))
            if name.lower().rstrip(".") in self.silent:
                return b""
        ip = self.lookup(name)
        rd = flags & 0x0100
        answers = b""
        ancount = 0
        if ip is None:
            rcode = 3  # NXDOMAIN
        else:
            rcode = 0
            if qtype == QTYPE_A and qclass == 1:
                answers = (b"\xc0\x0c" + struct.pack("!HHIH", QTYPE_A, 1, self.ttl, 4)
                           + socket.inet_aton(ip))
                ancount = 1
        rflags = 0x8000 | 0x0400 | rd | 0x0080 | rcode  # QR, AA, RD copied, RA
        header = struct.pack("!HHHHHH", qid, rflags, 1, ancount, 0, 0)
        return header + question + answers


def query_a(server: tuple, name: str, timeout: float = 2.0) -> tuple[int, list[str]]:
    """Minimal client used by the self-test: returns (rcode, [ipv4...])."""
    qid = int(time.monotonic() * 1000) & 0xFFFF
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack("!HH", QTYPE_A, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(q, server)
        data, _ = s.recvfrom(4096)
    finally:
        s.close()
    rid, flags, _qd, an, _ns, _ar = struct.unpack("!HHHHHH", data[:12])
    assert rid == qid
    _, off = _parse_name(data, 12)
    off += 4
    ips = []
    for _ in range(an):
        _, off = _parse_name(data, off)
        t, _c, _ttl, rdlen = struct.unpack("!HHIH", data[off:off + 10])
        off += 10
        if t == QTYPE_A:
            ips.append(socket.inet_ntoa(data[off:off + rdlen]))
        off += rdlen
    return flags & 0xF, ips
