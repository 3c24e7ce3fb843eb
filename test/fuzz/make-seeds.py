#!/usr/bin/env python3
"""Write the fuzzers' seed corpora under test/fuzz/corpus/.

wire/     the first distinct DUNDi UDP payloads of test/data/asterisk-pair.pcap
          (classic pcap, Ethernet/IPv4/UDP, port 4520), plus the first packet
          of every command not among them
decrypt/  ENCDATA inputs for the fixed key 00 01 .. 0f: the protocol 6.5 test
          vector, clear capture packets sealed under that key (needs the
          `openssl` command; skipped without it), a few random 32/48-byte blobs
pattern/  "PATTERN\\nNUMBER" pairs
config/   small dundi.conf files from test/data (and test/data/conf if present)
server/   datagram sequences for fuzz_server (test/fuzz/server.c): requests from
          the keyed peer (in clear and sealed), the unkeyed peer and strangers
regstate/ pktdecode/ sipfeed/
          written by the unit tests that build those inputs
          (test_regstate, test_pktdecode, test_sipfeed DATADIR --seeds DIR),
          run from the build tree given by --build (default: build); skipped
          when they are not built

Python 3 standard library only. Output is deterministic; rerun after the
capture or the configs change.
"""
import hashlib
import os
import random
import shutil
import struct
import subprocess
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DATA = os.path.join(ROOT, "test", "data")
CORPUS = os.path.join(HERE, "corpus")
PORT = 4520
N_WIRE = 40
KEY = bytes(range(16))


def pcap_udp_payloads(path, port=PORT):
    """Yield the UDP payloads to or from port in a classic pcap (Ethernet/IPv4)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        sys.exit("%s: not a classic pcap file" % path)
    linktype = struct.unpack(e + "I", data[20:24])[0]
    if linktype != 1:
        sys.exit("%s: link type %d, want Ethernet (1)" % (path, linktype))
    off = 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(e + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        if len(frame) < 14:
            continue
        ethertype = struct.unpack(">H", frame[12:14])[0]
        ip = frame[14:]
        if ethertype == 0x8100 and len(frame) >= 18:  # one VLAN tag
            ethertype = struct.unpack(">H", frame[16:18])[0]
            ip = frame[18:]
        if ethertype != 0x0800 or len(ip) < 20 or ip[0] >> 4 != 4:
            continue
        ihl = (ip[0] & 0x0f) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        frag = struct.unpack(">H", ip[6:8])[0]
        if ip[9] != 17 or frag & 0x3fff:  # UDP, unfragmented
            continue
        ip = ip[:total]
        udp = ip[ihl:]
        if len(udp) < 8:
            continue
        sport, dport, ulen = struct.unpack(">HHH", udp[:6])
        if PORT not in (sport, dport):
            continue
        yield udp[8:ulen]


def reset(sub):
    d = os.path.join(CORPUS, sub)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    return d


def write(d, name, blob):
    with open(os.path.join(d, name), "wb") as f:
        f.write(blob)


def wire_seeds():
    d = reset("wire")
    seen, cmds, picked = set(), set(), []
    payloads = list(pcap_udp_payloads(os.path.join(DATA, "asterisk-pair.pcap")))
    for p in payloads:
        if p in seen or len(p) < 8:
            continue
        if len(picked) < N_WIRE:
            seen.add(p)
            cmds.add(p[6] & 0x7f)
            picked.append(p)
    for p in payloads:  # one of each command beyond the first N
        if len(p) >= 8 and (p[6] & 0x7f) not in cmds and p not in seen:
            seen.add(p)
            cmds.add(p[6] & 0x7f)
            picked.append(p)
    for i, p in enumerate(picked):
        write(d, "pcap-%02d-cmd%02x" % (i, p[6] & 0x7f), p)
    for name, p in synthetic_packets():
        write(d, "synth-" + name, p)
    print("wire: %d seeds from %d payloads (commands %s)"
          % (len(picked), len(payloads), " ".join("%02x" % c for c in sorted(cmds))))
    return payloads


def ie(t, v=b""):
    return bytes([t, len(v)]) + v


def synthetic_packets():
    """IEs and commands the capture does not show in clear."""
    eid_a, eid_b = bytes.fromhex("02000000000a"), bytes.fromhex("02000000000b")
    hdr = lambda cmd, final=False: bytes([0x12, 0x34, 0x56, 0x78, 1, 2, cmd | (0x80 if final else 0), 0])
    u16 = lambda v: struct.pack(">H", v)
    answer = ie(5, eid_a + b"\x01" + u16(0x0005) + u16(100) + b"priv:s3cr3t@10.0.0.2/5551212")
    return [
        ("regreq", hdr(0x0a) + ie(10, u16(1)) + ie(1, eid_b) + ie(11, u16(60))),
        ("regresponse", hdr(0x4b, True) + ie(11, u16(60))),
        ("eidquery", hdr(0x03) + ie(10, u16(1)) + ie(1, eid_b) + ie(15, eid_a) + ie(6, u16(2))),
        ("eidresponse", hdr(0x44, True) + ie(21, b"Dept") + ie(22, b"Org") + ie(23, b"Town")
         + ie(24, b"State") + ie(25, b"CC") + ie(26, b"a@b.c") + ie(27, b"+1555") + ie(28, b"10.0.0.2")),
        ("precache", hdr(0x05) + ie(10, u16(1)) + ie(4, eid_a) + ie(1, eid_b) + ie(3, b"1001")
         + ie(2, b"e164") + ie(6, u16(3)) + answer + ie(20, u16(4)) + ie(11, u16(3600))),
        ("cancel-cause", hdr(0x0c, True) + ie(14, b"\x03" + b"Unauthorized")),
        ("unknown", hdr(0x48, True) + ie(12, b"\x7f")),
        ("encrypt-fullkey", hdr(0x0d) + ie(1, eid_b) + ie(17, bytes(128)) + ie(18, bytes(range(128)))
         + ie(16, bytes(range(0xf0, 0x100)) + bytes(32))),
        ("encrypt-crc", hdr(0x0d) + ie(1, eid_b) + ie(19, bytes.fromhex("24650d57"))
         + b"\x10\x40" + bytes(range(0xf0, 0x100)) + bytes(48)),
        ("status", hdr(0x0f) + ie(30, u16(1)) + ie(29) + ie(99, b"??")),
        ("dpresponse-many", hdr(0x42, True) + answer * 5 + ie(20, u16(6) + b"1009") + ie(11, u16(5))),
    ]


def aes_cbc_nopad(key, iv, plain):
    r = subprocess.run(["openssl", "enc", "-aes-128-cbc", "-nopad", "-nosalt",
                        "-K", key.hex(), "-iv", iv.hex()],
                       input=plain, stdout=subprocess.PIPE, check=True)
    return r.stdout


def decrypt_seeds(payloads):
    d = reset("decrypt")
    iv = bytes(range(0xf0, 0x100))
    ct = bytes.fromhex(
        "ef843294e3cbe9059ea8edf850a674b4fb3dcc67a58c1c0239a1a68cb1020c03"
        "d6f7ab2eb6a40cb0453fa208270a6356")
    write(d, "spec-6.5-vector", iv + ct)
    rng = random.Random(4520)
    for n in (32, 32, 48, 48, 64):
        write(d, "random-%d-%d" % (n, len(os.listdir(d))), bytes(rng.getrandbits(8) for _ in range(n)))
    if not shutil.which("openssl"):
        print("decrypt: openssl command not found; only the vector and random seeds written")
        return
    count, seen = 0, set()
    for p in payloads:  # clear packets, sealed under the fixed key
        if len(p) < 8 or (p[6] & 0x7f) == 0x0d or p[6:] in seen:
            continue
        seen.add(p[6:])
        z = zlib.compress(p[6:])
        z += b"\0" * (-len(z) % 16)
        piv = hashlib.sha256(p).digest()[:16]
        write(d, "sealed-%02d-cmd%02x" % (count, p[6] & 0x7f), piv + aes_cbc_nopad(KEY, piv, z))
        count += 1
        if count >= 8:
            break
    for name, p in synthetic_packets():
        if (p[6] & 0x7f) != 0x0d:
            z = zlib.compress(p[6:])
            z += b"\0" * (-len(z) % 16)
            piv = hashlib.sha256(p).digest()[:16]
            write(d, "sealed-" + name, piv + aes_cbc_nopad(KEY, piv, z))
    # A zlib bomb: 100000 zero bytes.
    z = zlib.compress(b"\0" * 100000)
    z += b"\0" * (-len(z) % 16)
    write(d, "bomb", iv + aes_cbc_nopad(KEY, iv, z))
    print("decrypt: %d seeds" % len(os.listdir(d)))


PATTERNS = [
    ("1001", "1001"), ("_1XXX", "1234"), ("_NXX[2-5].", "55531"), ("_1007X", "1007"),
    ("_2XXXX", "20000"), ("_9!", "9"), ("_[0-9a-z-].", "12-34"), ("_X.", "5551212"),
    ("_ZN[13579]", "123"), ("_1[]", "1"), ("_[", "1"), ("_.", ""), ("1-0-0-1", "1001"),
    ("_[^2]X", "3-4"),
]


def pattern_seeds():
    d = reset("pattern")
    for i, (pat, num) in enumerate(PATTERNS):
        write(d, "pair-%02d" % i, ("%s\n%s" % (pat, num)).encode())
    write(d, "nul-separated", b"_1XX\x00" + b"123")
    print("pattern: %d seeds" % len(os.listdir(d)))


def config_seeds():
    d = reset("config")
    srcs = [os.path.join(DATA, n) for n in sorted(os.listdir(DATA)) if n.endswith("dundi.conf")]
    confdir = os.path.join(DATA, "conf")
    if os.path.isdir(confdir):
        srcs += [os.path.join(confdir, n) for n in sorted(os.listdir(confdir)) if n.endswith(".conf")]
    for s in srcs:
        shutil.copyfile(s, os.path.join(d, os.path.basename(s)))
        os.chmod(os.path.join(d, os.path.basename(s)), 0o644)
    write(d, "minimal.conf", b"[general]\nentityid=02:00:00:00:00:01\n")
    print("config: %d seeds" % len(os.listdir(d)))


def server_seeds():
    """Records c, len (2 bytes), datagram for fuzz_server: c & 3 = from the keyed
    peer K in clear / the unkeyed peer U / a stranger / K sealed (c & 4: full key);
    c >> 3 = 50 ms steps to let pass afterwards."""
    d = reset("server")
    k, u, stranger = bytes.fromhex("020000004002"), bytes.fromhex("020000004003"), bytes.fromhex("020000004077")
    dyn = bytes.fromhex("020000004004")
    u16 = lambda v: struct.pack(">H", v)
    hdr = lambda st, cmd, dt=0, i=0, o=0: struct.pack(">HHBBBB", st, dt, i, o, cmd, 0)
    rec = lambda c, pkt: bytes([c]) + u16(len(pkt)) + pkt

    def discover(st, who, number, ttl=2, ctx=b"priv", extra=b""):
        return hdr(st, 0x01) + ie(10, u16(1)) + ie(4, who) + ie(3, number) + ie(2, ctx) + ie(6, u16(ttl)) + extra

    ack = lambda st, dt: hdr(st, 0xc0, dt, 1, 1)
    write(d, "clear-discover-u", rec(1 | 8, discover(100, u, b"1001")) + rec(1, ack(100, 1)))
    write(d, "sealed-discover-k", rec(3 | 4 | 8, discover(101, k, b"2042", 3, extra=ie(29))))
    write(d, "sealed-crc-then-full", rec(3, discover(102, k, b"1001")) + rec(3 | 4, discover(103, k, b"1002")))
    write(d, "clear-from-keyed", rec(0, discover(104, k, b"1001")))
    write(d, "stranger", rec(2, discover(105, stranger, b"1001")) + rec(2, hdr(106, 0x0a) + ie(10, u16(1))
                                                                      + ie(1, stranger) + ie(11, u16(60))))
    write(d, "regreq-dynamic", rec(2 | 16, hdr(107, 0x0a) + ie(10, u16(1)) + ie(1, dyn) + ie(11, u16(60))))
    write(d, "eidquery", rec(1, hdr(108, 0x03) + ie(10, u16(1)) + ie(1, u) + ie(15, bytes.fromhex("020000004001"))
                             + ie(2, b"priv") + ie(6, u16(2))))
    answer = ie(5, k + b"\x02" + u16(1) + u16(7) + b"1003@k")
    write(d, "sealed-precache", rec(3 | 4, hdr(109, 0x05) + ie(10, u16(1)) + ie(1, k) + ie(3, b"1003") + ie(2, b"priv")
                                    + ie(6, u16(1)) + answer + ie(20, u16(0)) + ie(11, u16(30))))
    write(d, "null-ping-and-cancel", rec(1, hdr(110, 0x89)) + rec(1, discover(111, u, b"9999", 3))
          + rec(1, hdr(112, 0x8c, 0) + ie(14, b"\x01x")))
    write(d, "duplicate-root", rec(1, discover(113, u, b"2055")) + rec(1, discover(114, u, b"2055")))
    write(d, "garbage", rec(2, b"\x00" * 7) + rec(1, hdr(115, 0x47)) + rec(3, b"\xff" * 40))
    print("server: %d seeds" % len(os.listdir(d)))


def unit_seeds(build):
    """Seeds the unit tests build by hand (frames, state files, SIP sequences)."""
    for what in ("regstate", "pktdecode", "sipfeed"):
        exe = os.path.join(build, "test", "test_" + what)
        if not os.access(exe, os.X_OK):
            print("%s: %s not built; seeds left as they are" % (what, exe))
            continue
        d = reset(what)
        subprocess.run([exe, DATA, "--seeds", d], stdout=subprocess.DEVNULL, check=True)
        print("%s: %d seeds" % (what, len(os.listdir(d))))


def main():
    build = os.path.join(ROOT, "build")
    if len(sys.argv) == 3 and sys.argv[1] == "--build":
        build = sys.argv[2]
    elif len(sys.argv) != 1:
        sys.exit("usage: make-seeds.py [--build DIR]")
    payloads = wire_seeds()
    decrypt_seeds(payloads)
    pattern_seeds()
    config_seeds()
    server_seeds()
    unit_seeds(build)


if __name__ == "__main__":
    main()
