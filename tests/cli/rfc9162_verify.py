#!/usr/bin/env python3
"""An independent check of RFC 9162 SCTs embedded in a certificate.

Written from the RFC text alone, sharing no code with ctca: pyca/cryptography
parses the certificates and verifies the ECDSA signatures; the TransItem and
TimestampedCertificateEntryDataV2 layouts (RFC 9162 4.5-4.8, 6.3, 7.1, 8.1.2,
8.1.3) are decoded and built here.

usage: rfc9162_verify.py CERT.pem ISSUER.pem LOG_LIST.json
Prints one line per SCT; exits 0 when there is at least one SCT and every one
verifies with the log of its OID in the (ctca-extended) log list, else 1.
"""
import base64
import hashlib
import json
import struct
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

OID_TI = bytes.fromhex("06032b654b")  # 1.3.101.75, as an encoded OBJECT IDENTIFIER
OID_SCT_LIST = bytes.fromhex("060a2b06010401d679020402")  # 1.3.6.1.4.1.11129.2.4.2


def tlv(b, i):
    """(tag, start of value, end of element) of the DER element at b[i]."""
    tag, n = b[i], b[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[i:i + k], "big")
        i += k
    return tag, i, i + n


def der(tag, content):
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(ln)]) + ln + content


def tbs_without_transparency(tbs):
    """RFC 9162 8.1.2: the TBSCertificate minus 1.3.101.75 and the v1 SCT list."""
    _, start, end = tlv(tbs, 0)
    out, i = b"", start
    while i < end:
        tag, vs, ve = tlv(tbs, i)
        if tag != 0xA3:
            out += tbs[i:ve]
        else:
            _, xs, xe = tlv(tbs, vs)
            kept, j = b"", xs
            while j < xe:
                _, es, ee = tlv(tbs, j)
                _, _, oid_end = tlv(tbs, es)
                if tbs[es:oid_end] not in (OID_TI, OID_SCT_LIST):
                    kept += tbs[j:ee]
                j = ee
            if kept:
                out += der(0xA3, der(0x30, kept))
        i = ve
    return der(0x30, out)


def oid_contents(dotted):
    arcs = [int(a) for a in dotted.split(".")]
    out = b""
    for x in [arcs[0] * 40 + arcs[1]] + arcs[2:]:
        chunk = [x & 0x7F]
        x >>= 7
        while x:
            chunk.insert(0, 0x80 | (x & 0x7F))
            x >>= 7
        out += bytes(chunk)
    return out


def transitems(ext_value):
    """The TransItems of the extension's OCTET STRING-wrapped TransItemList."""
    tag, vs, ve = tlv(ext_value, 0)
    assert tag == 0x04 and ve == len(ext_value), "extnValue is not one OCTET STRING"
    lst = ext_value[vs:ve]
    (total,) = struct.unpack(">H", lst[:2])
    assert total == len(lst) - 2, "TransItemList length"
    i, items = 2, []
    while i < len(lst):
        (n,) = struct.unpack(">H", lst[i:i + 2])
        items.append(lst[i + 2:i + 2 + n])
        i += 2 + n
    return items


def parse_sct(item):
    """SignedCertificateTimestampDataV2 of a precert_sct_v2 TransItem."""
    (vtype,) = struct.unpack(">H", item[:2])
    i = 2
    n = item[i]
    log_id = item[i + 1:i + 1 + n]
    i += 1 + n
    (ts,) = struct.unpack(">Q", item[i:i + 8])
    i += 8
    (n,) = struct.unpack(">H", item[i:i + 2])
    ext = item[i + 2:i + 2 + n]
    i += 2 + n
    (n,) = struct.unpack(">H", item[i:i + 2])
    sig = item[i + 2:i + 2 + n]
    assert i + 2 + n == len(item), "trailing bytes in the TransItem"
    return vtype, log_id, ts, ext, sig


def main():
    cert = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
    issuer = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
    loglist = json.load(open(sys.argv[3]))
    logs = {}
    for op in loglist["operators"]:
        for log in op.get("logs", []):
            if log.get("ct_version") == 2:
                logs[oid_contents(log["log_id_oid"])] = base64.b64decode(log["key"])
    ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier("1.3.101.75"))
    issuer_key_hash = hashlib.sha256(
        issuer.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)).digest()
    tbs = tbs_without_transparency(cert.tbs_certificate_bytes)
    ok, n = True, 0
    for item in transitems(ext.value.value):
        vtype, log_id, ts, sct_ext, sig = parse_sct(item)
        n += 1
        # 8.1.3: a precert_entry_v2 TransItem (0x0101) with the SCT's timestamp
        # and extensions; issuer_key_hash has a one-byte length.
        signed = (struct.pack(">HQ", 0x0101, ts) + bytes([len(issuer_key_hash)]) +
                  issuer_key_hash + len(tbs).to_bytes(3, "big") + tbs +
                  struct.pack(">H", len(sct_ext)) + sct_ext)
        status = "valid"
        if vtype != 0x0103:
            status = "not a precert_sct_v2"
        elif log_id not in logs:
            status = "unknown log"
        else:
            key = serialization.load_der_public_key(logs[log_id])
            try:
                key.verify(sig, signed, ec.ECDSA(hashes.SHA256()))
            except InvalidSignature:
                status = "invalid signature"
        ok = ok and status == "valid"
        print("SCT %d: log %s at %d: %s" % (n - 1, log_id.hex(), ts, status))
    return 0 if ok and n > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
