"""Minimal, independent DUNDi packet encoder/decoder for the integration tests.

Written from docs/dundi-protocol.md (sections 1-3 and 12), deliberately
sharing nothing with the C implementation under test, so that both sides
getting the same thing wrong is unlikely.

Wire format reminder (all integers big-endian):

    header (8 bytes): strans u16 | dtrans u16 | iseqno u8 | oseqno u8 | cmdresp u8 | cmdflags u8
    then IEs:         type u8 | length u8 | value (length bytes), repeated

cmdresp: bit 7 = F (final), bit 6 = R (response), bits 5..0 = command number.
"""

import struct

HDR_LEN = 8
MAX_PACKET = 8191  # datagrams of 8192 bytes or more are not DUNDi (spec 1.9)
TRANS_MASK = 0x7FFF

FLAG_FINAL = 0x80
FLAG_RESPONSE = 0x40

# Command bytes as they appear in cmdresp with F clear (spec 2.1).
ACK = 0x40
DPDISCOVER = 0x01
DPRESPONSE = 0x42
EIDQUERY = 0x03
EIDRESPONSE = 0x44
PRECACHERQ = 0x05
PRECACHERP = 0x46
INVALID = 0x47
UNKNOWN = 0x48
NULL = 0x09
REGREQ = 0x0A
REGRESPONSE = 0x4B
CANCEL = 0x0C
ENCRYPT = 0x0D
ENCREJ = 0x4E
STATUS = 0x0F

CMD_NAMES = {
    ACK: "ACK", DPDISCOVER: "DPDISCOVER", DPRESPONSE: "DPRESPONSE",
    EIDQUERY: "EIDQUERY", EIDRESPONSE: "EIDRESPONSE", PRECACHERQ: "PRECACHERQ",
    PRECACHERP: "PRECACHERP", INVALID: "INVALID", UNKNOWN: "UNKNOWN", NULL: "NULL",
    REGREQ: "REGREQ", REGRESPONSE: "REGRESPONSE", CANCEL: "CANCEL",
    ENCRYPT: "ENCRYPT", ENCREJ: "ENCREJ", STATUS: "STATUS",
}

# Information element ids (spec 3.3).
IE_EID = 1
IE_CALLED_CONTEXT = 2
IE_CALLED_NUMBER = 3
IE_EID_DIRECT = 4
IE_ANSWER = 5
IE_TTL = 6
IE_VERSION = 10
IE_EXPIRATION = 11
IE_UNKNOWN = 12
IE_CAUSE = 14
IE_REQEID = 15
IE_ENCDATA = 16
IE_SHAREDKEY = 17
IE_SIGNATURE = 18
IE_KEYCRC32 = 19
IE_HINT = 20
IE_DEPARTMENT = 21
IE_ORGANIZATION = 22
IE_LOCALITY = 23
IE_STATE_PROV = 24
IE_COUNTRY = 25
IE_EMAIL = 26
IE_PHONE = 27
IE_IPADDR = 28
IE_CACHEBYPASS = 29

# Answer flags (spec 3.4), hint flags (3.5), causes (3.7), protocols.
F_EXISTS = 0x0001
F_MATCHMORE = 0x0002
F_CANMATCH = 0x0004
F_IGNOREPAT = 0x0008
F_RESIDENTIAL = 0x0010
F_COMMERCIAL = 0x0020
F_MOBILE = 0x0040
F_NOUNSOLICITED = 0x0080
F_NOCOMUNSOLICIT = 0x0100

H_TTL_EXPIRED = 0x0001
H_DONT_ASK = 0x0002
H_UNAFFECTED = 0x0004

CAUSE_SUCCESS = 0
CAUSE_GENERAL = 1
CAUSE_NOAUTH = 3
CAUSE_DUPLICATE = 4

PROTO_NONE = 0
PROTO_IAX2 = 1
PROTO_SIP = 2
PROTO_H323 = 3


class Malformed(ValueError):
    """The datagram does not follow the DUNDi syntax."""


# ---------------------------------------------------------------- encoding

def eid(text):
    """'02:00:00:00:00:0a' -> 6 bytes."""
    parts = text.split(":")
    if len(parts) != 6:
        raise ValueError("not an EID: %r" % text)
    return bytes(int(p, 16) for p in parts)


def eid_str(raw):
    return ":".join("%02x" % b for b in raw)


def header(strans, dtrans, iseqno, oseqno, cmdresp, cmdflags=0):
    return struct.pack(">HHBBBB", strans, dtrans, iseqno, oseqno, cmdresp, cmdflags)


def ie(ie_type, value=b""):
    if isinstance(value, str):
        value = value.encode("ascii")
    if len(value) > 255:
        raise ValueError("IE value longer than 255 bytes")
    return bytes([ie_type, len(value)]) + value


def ie_u16(ie_type, v):
    return ie(ie_type, struct.pack(">H", v))


def ie_eid(ie_type, text):
    return ie(ie_type, eid(text))


def ie_answer(owner, proto, flags, weight, dest):
    if isinstance(dest, str):
        dest = dest.encode("ascii")
    return ie(IE_ANSWER, eid(owner) + struct.pack(">BHH", proto, flags, weight) + dest)


def ie_hint(flags, data=b""):
    if isinstance(data, str):
        data = data.encode("ascii")
    return ie(IE_HINT, struct.pack(">H", flags) + data)


def ie_cause(code, text=b""):
    if isinstance(text, str):
        text = text.encode("ascii")
    return ie(IE_CAUSE, bytes([code]) + text)


def packet(strans, dtrans, iseqno, oseqno, cmdresp, ies=b"", cmdflags=0):
    return header(strans, dtrans, iseqno, oseqno, cmdresp, cmdflags) + ies


def dpdiscover_ies(number, context, sender_eid, ttl=2, bypass=False, version=True):
    """IEs in the order the reference sends them (spec 2.2)."""
    out = b""
    if version:
        out += ie_u16(IE_VERSION, 1)
    if sender_eid is not None:
        out += ie_eid(IE_EID_DIRECT, sender_eid)
    if number is not None:
        out += ie(IE_CALLED_NUMBER, number)
    if context is not None:
        out += ie(IE_CALLED_CONTEXT, context)
    if ttl is not None:
        out += ie_u16(IE_TTL, ttl)
    if bypass:
        out += ie(IE_CACHEBYPASS)
    return out


def dpdiscover(strans, number, context, sender_eid, ttl=2, bypass=False):
    return packet(strans, 0, 0, 0, DPDISCOVER,
                  dpdiscover_ies(number, context, sender_eid, ttl, bypass))


def eidquery(strans, reqeid, sender_eid, context="e164", ttl=32):
    ies = (ie_u16(IE_VERSION, 1) + ie_eid(IE_EID, sender_eid) + ie_eid(IE_REQEID, reqeid)
           + ie(IE_CALLED_CONTEXT, context) + ie_u16(IE_TTL, ttl))
    return packet(strans, 0, 0, 0, EIDQUERY, ies)


def regreq(strans, sender_eid, expiration=60):
    ies = ie_u16(IE_VERSION, 1) + ie_eid(IE_EID, sender_eid) + ie_u16(IE_EXPIRATION, expiration)
    return packet(strans, 0, 0, 0, REGREQ, ies)


def ack(strans, dtrans, iseqno, oseqno, final):
    return header(strans, dtrans, iseqno, oseqno, ACK | (FLAG_FINAL if final else 0))


# ---------------------------------------------------------------- decoding

class Header:
    __slots__ = ("strans", "dtrans", "iseqno", "oseqno", "cmdresp", "cmdflags")

    def __init__(self, strans, dtrans, iseqno, oseqno, cmdresp, cmdflags):
        self.strans, self.dtrans = strans, dtrans
        self.iseqno, self.oseqno = iseqno, oseqno
        self.cmdresp, self.cmdflags = cmdresp, cmdflags

    @property
    def cmd(self):
        """Command as the reference compares it: cmdresp & 0x7f (R bit included)."""
        return self.cmdresp & 0x7F

    @property
    def final(self):
        return bool(self.cmdresp & FLAG_FINAL)

    def __repr__(self):
        return "Header(strans=%d dtrans=%d iseq=%d oseq=%d cmd=0x%02x%s flags=%d)" % (
            self.strans, self.dtrans, self.iseqno, self.oseqno, self.cmdresp,
            " " + CMD_NAMES.get(self.cmd, "?") + (" final" if self.final else ""), self.cmdflags)


def decode_header(data):
    if len(data) < HDR_LEN:
        raise Malformed("datagram of %d bytes is shorter than a header" % len(data))
    return Header(*struct.unpack(">HHBBBB", data[:HDR_LEN]))


def parse_ies(data):
    """List of (type, value bytes) in wire order. ENCDATA takes the rest (spec 3.2/11.1)."""
    out = []
    i = 0
    n = len(data)
    while i < n:
        if n - i == 1:
            raise Malformed("one stray byte after the last IE")
        t, ln = data[i], data[i + 1]
        if t == IE_ENCDATA:
            out.append((t, bytes(data[i + 2:])))
            return out
        if i + 2 + ln > n:
            raise Malformed("IE %d length %d runs past the end" % (t, ln))
        out.append((t, bytes(data[i + 2:i + 2 + ln])))
        i += 2 + ln
    return out


class Answer:
    def __init__(self, value):
        if len(value) < 11:
            raise Malformed("ANSWER shorter than 11 bytes")
        self.eid = eid_str(value[:6])
        self.proto, self.flags, self.weight = struct.unpack(">BHH", value[6:11])
        self.dest = value[11:].decode("latin-1")

    def __repr__(self):
        return "Answer(eid=%s proto=%d flags=%04x weight=%d dest=%r)" % (
            self.eid, self.proto, self.flags, self.weight, self.dest)


class Packet:
    """A decoded datagram: .raw, .hdr, .ies (list of (type, value))."""

    def __init__(self, data):
        self.raw = bytes(data)
        self.hdr = decode_header(self.raw)
        self.ies = parse_ies(self.raw[HDR_LEN:])

    def all(self, t):
        return [v for (k, v) in self.ies if k == t]

    def get(self, t):
        vals = self.all(t)
        return vals[-1] if vals else None

    def types(self):
        return [k for (k, _) in self.ies]

    def u16(self, t):
        v = self.get(t)
        if v is None:
            return None
        if len(v) != 2:
            raise Malformed("IE %d should be 2 bytes, is %d" % (t, len(v)))
        return struct.unpack(">H", v)[0]

    def string(self, t):
        v = self.get(t)
        return None if v is None else v.decode("latin-1")

    def answers(self):
        return [Answer(v) for v in self.all(IE_ANSWER)]

    def hint(self):
        v = self.get(IE_HINT)
        if v is None:
            return None
        if len(v) < 2:
            raise Malformed("HINT shorter than 2 bytes")
        return struct.unpack(">H", v[:2])[0], v[2:].decode("latin-1")

    def cause(self):
        v = self.get(IE_CAUSE)
        if v is None:
            return None
        if len(v) < 1:
            raise Malformed("empty CAUSE")
        return v[0], v[1:].decode("latin-1")

    def __repr__(self):
        return "Packet(%r, ies=%r)" % (self.hdr, self.ies)


def decode(data):
    return Packet(data)
