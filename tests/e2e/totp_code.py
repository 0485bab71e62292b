#!/usr/bin/env python3
"""Prints the TOTP code (RFC 6238) of an otpauth:// URI for the current time step plus an
offset: what an authenticator app would show. Used by the end-to-end tests only.
Usage: totp_code.py URI_FILE [STEP_OFFSET]"""
import base64
import hashlib
import hmac
import struct
import sys
import time
import urllib.parse

uri = open(sys.argv[1]).read().strip()
offset = int(sys.argv[2]) if len(sys.argv) > 2 else 0
query = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)
secret_text = query["secret"][0]
secret = base64.b32decode(secret_text + "=" * (-len(secret_text) % 8))
algorithm = query.get("algorithm", ["SHA1"])[0].lower()
digits = int(query.get("digits", ["6"])[0])
period = int(query.get("period", ["30"])[0])
step = int(time.time()) // period + offset
mac = hmac.new(secret, struct.pack(">Q", step), getattr(hashlib, algorithm)).digest()
pos = mac[-1] & 0x0F
number = struct.unpack(">I", mac[pos:pos + 4])[0] & 0x7FFFFFFF
print(str(number % 10 ** digits).zfill(digits))
