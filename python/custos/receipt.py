"""Offline verification of custos audit receipts: C2SP tlog-proof receipts
(c2sp.org/tlog-proof@v1), RFC 9162 inclusion proofs, C2SP tlog-checkpoint notes and C2SP
signed-note Ed25519 signatures. Ed25519 itself comes from the `cryptography` package when it
is installed, else from the `openssl` command line; it is never computed in Python."""

import base64
import binascii
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple, Union

from .errors import ReceiptError

RECEIPT_HEADER = "c2sp.org/tlog-proof@v1"
HASH_SIZE = 32
ED25519_SIGNATURE_TYPE = 0x01
# DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the raw 32-byte key follows.
ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")
_MAX_PROOF_HASHES = 64
_MAX_NOTE_SIGNATURES = 100
_SIGNATURE_PREFIX = "\u2014 "  # em dash and a space


# --- encodings -----------------------------------------------------------------------------

def _b64decode(text: str, what: str) -> bytes:
    """Strict standard base64 (padding required, canonical), so that one value has exactly
    one accepted spelling."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as e:
        raise ReceiptError(f"{what}: '{_short(text)}' is not valid base64 ({e})") from None
    if base64.b64encode(data).decode("ascii") != text:
        raise ReceiptError(f"{what}: '{_short(text)}' is not canonical base64")
    return data


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _decimal(text: str, what: str) -> int:
    if not re.fullmatch(r"0|[1-9][0-9]*", text) or int(text) >= 1 << 64:
        raise ReceiptError(f"{what}: '{_short(text)}' is not a decimal without leading zeros "
                           "that fits 64 bits")
    return int(text)


# --- RFC 9162 Merkle tree hashing and inclusion proofs ------------------------------------

def hash_leaf(entry: bytes) -> bytes:
    """SHA-256(0x00 || entry): the RFC 9162 leaf hash of a log entry."""
    return hashlib.sha256(b"\x00" + bytes(entry)).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): an RFC 9162 interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def inclusion_proof_length(index: int, size: int) -> int:
    """How many hashes the inclusion proof of leaf `index` in a tree of `size` leaves has:
    one per level below the point where the paths to `index` and to the last leaf split,
    plus one per left sibling above it."""
    if not 0 <= index < size:
        raise ReceiptError(f"inclusion proof: index {index} is outside a tree of {size} leaves")
    inner = (index ^ (size - 1)).bit_length()
    return inner + bin(index >> inner).count("1")


def root_from_inclusion_proof(index: int, size: int, leaf_hash: bytes,
                              proof: Sequence[bytes]) -> bytes:
    """The root that `proof` leads to from leaf `index` (RFC 9162 section 2.1.3.2).
    ReceiptError if the proof's shape is wrong for (index, size)."""
    if len(leaf_hash) != HASH_SIZE:
        raise ReceiptError(f"inclusion proof: the leaf hash has {len(leaf_hash)} bytes, "
                           f"expected {HASH_SIZE}")
    for i, node in enumerate(proof):
        if len(node) != HASH_SIZE:
            raise ReceiptError(f"inclusion proof: hash {i} has {len(node)} bytes, expected "
                               f"{HASH_SIZE}")
    want = inclusion_proof_length(index, size)
    if len(proof) != want:
        raise ReceiptError(f"inclusion proof: {len(proof)} hashes, but leaf {index} of a tree "
                           f"of {size} leaves needs exactly {want}")
    fn, sn, r = index, size - 1, bytes(leaf_hash)
    for node in proof:
        if sn == 0:  # unreachable after the length check; kept as the RFC states it
            raise ReceiptError("inclusion proof: more hashes than levels")
        if fn & 1 or fn == sn:
            r = hash_children(node, r)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hash_children(r, node)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ReceiptError("inclusion proof: fewer hashes than levels")
    return r


def verify_inclusion(index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes],
                     root: bytes) -> None:
    """Raises ReceiptError unless `proof` shows that `leaf_hash` is leaf `index` of the tree
    of `size` leaves whose root hash is `root`."""
    if len(root) != HASH_SIZE:
        raise ReceiptError(f"inclusion proof: the root hash has {len(root)} bytes, expected "
                           f"{HASH_SIZE}")
    got = root_from_inclusion_proof(index, size, leaf_hash, proof)
    if got != root:
        raise ReceiptError(
            f"inclusion proof: leaf {index} and its proof lead to root "
            f"{base64.b64encode(got).decode()}, but the tree of {size} leaves has root "
            f"{base64.b64encode(root).decode()}: the entry, its index or a proof hash was "
            "altered")


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes,
                       root2: bytes) -> None:
    """Raises ReceiptError unless `proof` shows that the tree of `size2` leaves with root
    `root2` extends the tree of `size1` leaves with root `root1` (RFC 9162 section
    2.1.4.2): the log only appended. Equal sizes need an empty proof and equal roots; a
    proof from size 0 proves nothing and is refused."""
    if size1 == 0:
        raise ReceiptError("consistency proof: from an empty tree there is nothing to prove "
                           "(size1 must be at least 1)")
    if size1 > size2:
        raise ReceiptError(f"consistency proof: the older tree has {size1} leaves, more than "
                           f"the newer one's {size2}: the log shrank")
    if size1 == size2:
        if proof:
            raise ReceiptError(f"consistency proof: equal sizes ({size1}) need an empty proof, "
                               f"got {len(proof)} hashes")
        if root1 != root2:
            raise ReceiptError(f"consistency proof: two different roots for the same size "
                               f"{size1}: the log forked")
        return
    for i, node in enumerate(proof):
        if len(node) != HASH_SIZE:
            raise ReceiptError(f"consistency proof: hash {i} has {len(node)} bytes, expected "
                               f"{HASH_SIZE}")
    for name, root in (("root1", root1), ("root2", root2)):
        if len(root) != HASH_SIZE:
            raise ReceiptError(f"consistency proof: {name} has {len(root)} bytes, expected "
                               f"{HASH_SIZE}")
    if not proof:
        raise ReceiptError(f"consistency proof: empty, but {size1} and {size2} leaves differ")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of two: the old root is a node of the new tree
        path.insert(0, bytes(root1))
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for node in path[1:]:
        if sn == 0:
            raise ReceiptError(f"consistency proof: {len(proof)} hashes are too many for sizes "
                               f"{size1} and {size2}")
        if fn & 1 or fn == sn:
            fr = hash_children(node, fr)
            sr = hash_children(node, sr)
            while fn != 0 and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = hash_children(sr, node)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ReceiptError(f"consistency proof: {len(proof)} hashes are too few for sizes "
                           f"{size1} and {size2}")
    if fr != root1:
        raise ReceiptError(f"consistency proof: it does not lead to the older root of {size1} "
                           "leaves: the older checkpoint or the proof is wrong")
    if sr != root2:
        raise ReceiptError(f"consistency proof: it does not lead to the newer root of {size2} "
                           "leaves: the log rewrote history, or the proof is wrong")


# --- Ed25519 (never implemented here) -------------------------------------------------------

def ed25519_spki_der(public_key: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo of a raw 32-byte Ed25519 public key."""
    if len(public_key) != 32:
        raise ReceiptError(f"Ed25519 public key has {len(public_key)} bytes, expected 32")
    return ED25519_SPKI_PREFIX + bytes(public_key)


def _verify_with_cryptography(public_key: bytes, signature: bytes, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except InvalidSignature:
        return False
    except ValueError as e:
        raise ReceiptError(f"Ed25519 public key rejected by cryptography: {e}") from None


def _verify_with_openssl(public_key: bytes, signature: bytes, message: bytes) -> bool:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise ReceiptError("no Ed25519 verifier: install the Python package 'cryptography' "
                           "or put the 'openssl' command on PATH")
    pem = ("-----BEGIN PUBLIC KEY-----\n" +
           base64.encodebytes(ed25519_spki_der(public_key)).decode("ascii") +
           "-----END PUBLIC KEY-----\n")
    with tempfile.TemporaryDirectory(prefix="custos-ed25519-") as tmp:
        paths = {}
        for name, data in (("key.pem", pem.encode("ascii")), ("msg", message),
                           ("sig", signature)):
            paths[name] = os.path.join(tmp, name)
            with open(paths[name], "wb") as f:
                f.write(data)
        try:
            run = subprocess.run(
                [openssl, "pkeyutl", "-verify", "-pubin", "-inkey", paths["key.pem"],
                 "-rawin", "-in", paths["msg"], "-sigfile", paths["sig"]],
                capture_output=True, timeout=30, check=False)
        except (OSError, subprocess.SubprocessError) as e:
            raise ReceiptError(f"running openssl pkeyutl failed: {e}") from None
    out = run.stdout.decode("utf-8", "replace")
    if run.returncode == 0 and "Signature Verified Successfully" in out:
        return True
    if "Signature Verification Failure" in out:
        return False
    err = run.stderr.decode("utf-8", "replace").strip()
    raise ReceiptError(f"openssl pkeyutl -verify failed (exit {run.returncode}): "
                       f"{_short(err or out, 300)}; an OpenSSL 3 with Ed25519 and -rawin is "
                       "needed, or install the Python package 'cryptography'")


def ed25519_backend_available(backend: str) -> bool:
    if backend == "cryptography":
        try:
            import cryptography.hazmat.primitives.asymmetric.ed25519  # noqa: F401
            return True
        except ImportError:
            return False
    if backend == "openssl":
        return shutil.which("openssl") is not None
    raise ValueError(f"unknown Ed25519 backend '{backend}': use 'cryptography' or 'openssl'")


def _ed25519_verifier(backend: Optional[str]) -> Callable[[bytes, bytes, bytes], bool]:
    if backend is None:
        backend = "cryptography" if ed25519_backend_available("cryptography") else "openssl"
    if backend == "cryptography":
        if not ed25519_backend_available("cryptography"):
            raise ReceiptError("Ed25519 backend 'cryptography' requested but the package is "
                               "not installed")
        return _verify_with_cryptography
    if backend == "openssl":
        return _verify_with_openssl
    raise ValueError(f"unknown Ed25519 backend '{backend}': use 'cryptography' or 'openssl'")


# --- C2SP signed notes ----------------------------------------------------------------------

def note_key_id(name: str, public_key: bytes) -> int:
    """SHA-256(name || 0x0A || 0x01 || key)[:4] as a big-endian integer."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ED25519_SIGNATURE_TYPE]) +
                            public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _check_key_name(name: str, what: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise ReceiptError(f"{what}: key name '{_short(name)}' must be non-empty and contain "
                           "neither '+' nor spaces")


@dataclass(frozen=True)
class VerifierKey:
    """A trusted note key: the vkey `<name>+<8 hex key id>+<base64(0x01 || 32-byte key)>`
    that `GET /v1/audit/pubkey` (or `custos audit pubkey`) prints."""
    name: str
    key_id: int
    public_key: bytes

    @classmethod
    def parse(cls, vkey: str) -> "VerifierKey":
        vkey = vkey.strip()
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise ReceiptError(f"verifier key '{_short(vkey)}': expected "
                               "'<name>+<key id hex>+<base64 key>'")
        name, hex_id, key_b64 = parts
        _check_key_name(name, "verifier key")
        if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
            raise ReceiptError(f"verifier key '{_short(vkey)}': key id '{hex_id}' must be 8 "
                               "lowercase hex digits")
        raw = _b64decode(key_b64, "verifier key")
        if len(raw) != 33 or raw[0] != ED25519_SIGNATURE_TYPE:
            raise ReceiptError(f"verifier key '{_short(vkey)}': expected base64 of 0x01 and a "
                               f"32-byte Ed25519 key, got {len(raw)} bytes starting "
                               f"{raw[:1].hex() or 'with nothing'}")
        key = raw[1:]
        want = note_key_id(name, key)
        if int(hex_id, 16) != want:
            raise ReceiptError(f"verifier key '{_short(vkey)}': key id {hex_id} does not match "
                               f"the key (expected {want:08x})")
        return cls(name, want, key)

    @property
    def vkey(self) -> str:
        raw = bytes([ED25519_SIGNATURE_TYPE]) + self.public_key
        return f"{self.name}+{self.key_id:08x}+{base64.b64encode(raw).decode('ascii')}"


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: int
    signature: bytes  # without the 4-byte key id


@dataclass(frozen=True)
class Note:
    text: str  # including its final newline
    signatures: Tuple[NoteSignature, ...]


def parse_note(message: Union[str, bytes]) -> Note:
    """Splits a signed note into its text and signature lines (not yet verified)."""
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ReceiptError(f"signed note: not valid UTF-8 ({e})") from None
    for i, c in enumerate(message):
        if c != "\n" and (ord(c) < 0x20 or ord(c) == 0x7F):
            line = message.count("\n", 0, i) + 1
            raise ReceiptError(f"signed note: line {line}: control character U+{ord(c):04X}")
    split = message.rfind("\n\n")
    if split < 0:
        raise ReceiptError("signed note: no empty line between the text and the signatures")
    text = message[:split + 1]
    sig_block = message[split + 2:]
    first_sig_line = text.count("\n") + 2
    if not sig_block.endswith("\n"):
        raise ReceiptError(f"signed note: line {first_sig_line + sig_block.count(chr(10))}: "
                           "the last signature line must end with a newline")
    sig_lines = sig_block[:-1].split("\n")
    if len(sig_lines) > _MAX_NOTE_SIGNATURES:
        raise ReceiptError(f"signed note: more than {_MAX_NOTE_SIGNATURES} signatures")
    signatures = []
    for offset, line in enumerate(sig_lines):
        where = f"signed note: line {first_sig_line + offset}"
        if not line.startswith(_SIGNATURE_PREFIX):
            raise ReceiptError(f"{where}: a signature line must start with '\u2014 ' "
                               f"(em dash, space), got '{_short(line)}'")
        rest = line[len(_SIGNATURE_PREFIX):]
        name, sep, sig_b64 = rest.partition(" ")
        if not sep:
            raise ReceiptError(f"{where}: expected '\u2014 <key name> <base64 signature>'")
        _check_key_name(name, where)
        raw = _b64decode(sig_b64, where)
        if len(raw) < 5:
            raise ReceiptError(f"{where}: signature has {len(raw)} bytes, needs a 4-byte key "
                               "id and the signature")
        signatures.append(NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return Note(text, tuple(signatures))


def _as_verifier_keys(keys) -> List[VerifierKey]:
    if isinstance(keys, (str, VerifierKey)):
        keys = [keys]
    out = [k if isinstance(k, VerifierKey) else VerifierKey.parse(k) for k in keys]
    if not out:
        raise ReceiptError("no trusted verifier key given")
    return out


def open_note(message: Union[str, bytes], public_keys, *,
              backend: Optional[str] = None) -> Note:
    """Parses a signed note and verifies it per c2sp.org/signed-note: signatures by keys not
    in `public_keys` (a vkey string, a VerifierKey, or a list of them) are ignored; a
    signature by a trusted key that does not verify rejects the note; at least one trusted
    key must have signed. Returns the note."""
    keys = _as_verifier_keys(public_keys)
    note = parse_note(message)
    verify = _ed25519_verifier(backend)
    verified = 0
    seen = set()
    for sig in note.signatures:
        key = next((k for k in keys if k.name == sig.name and k.key_id == sig.key_id), None)
        if key is None:
            continue
        if (key.name, key.key_id) in seen:
            raise ReceiptError(f"signed note: key '{key.name}' ({key.key_id:08x}) signed twice")
        seen.add((key.name, key.key_id))
        if len(sig.signature) != 64 or not verify(key.public_key, sig.signature,
                                                  note.text.encode("utf-8")):
            raise ReceiptError(f"signed note: the signature by '{key.name}' ({key.key_id:08x}) "
                               "does not verify: the note text was altered or the signature "
                               "is forged")
        verified += 1
    if verified == 0:
        signers = ", ".join(f"{s.name} ({s.key_id:08x})" for s in note.signatures) or "none"
        trusted = ", ".join(f"{k.name} ({k.key_id:08x})" for k in keys)
        raise ReceiptError(f"signed note: no signature by a trusted key (signed by: {signers}; "
                           f"trusted: {trusted})")
    return note


# --- C2SP tlog-checkpoint and tlog-proof ----------------------------------------------------

@dataclass(frozen=True)
class Checkpoint:
    """A log's signed statement: `origin` had `size` entries with root hash `root_hash`."""
    origin: str
    size: int
    root_hash: bytes
    extensions: Tuple[str, ...] = ()


def parse_checkpoint(text: str) -> Checkpoint:
    """Parses a checkpoint note text (origin, size, base64 root hash, optional extension
    lines, each ending in a newline)."""
    if not text.endswith("\n"):
        raise ReceiptError("checkpoint: the text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise ReceiptError(f"checkpoint: {len(lines)} lines, expected origin, size and root "
                           "hash")
    origin, size_text, root_text = lines[:3]
    if not origin:
        raise ReceiptError("checkpoint:1: empty origin")
    size = _decimal(size_text, "checkpoint:2: tree size")
    root = _b64decode(root_text, "checkpoint:3: root hash")
    if len(root) != HASH_SIZE:
        raise ReceiptError(f"checkpoint:3: root hash has {len(root)} bytes, expected {HASH_SIZE}")
    for n, line in enumerate(lines[3:], start=4):
        if not line:
            raise ReceiptError(f"checkpoint:{n}: empty extension line")
    return Checkpoint(origin, size, root, tuple(lines[3:]))


@dataclass(frozen=True)
class Receipt:
    """A parsed c2sp.org/tlog-proof@v1 receipt (not yet verified)."""
    index: int
    proof: Tuple[bytes, ...]
    signed_checkpoint: str
    extra: Optional[bytes] = None


def parse_receipt(text: Union[str, bytes]) -> Receipt:
    """Strict parse: header line, optional `extra <base64>`, `index <n>`, one base64 32-byte
    hash per line, an empty line, then the signed checkpoint note."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ReceiptError(f"tlog-proof: not valid UTF-8 ({e})") from None
    lines = text.split("\n")
    pos = 0

    def line_at(i: int) -> Optional[str]:
        # A line exists only if its newline does: the last split piece is what follows the
        # final newline.
        return lines[i] if i < len(lines) - 1 else None

    if line_at(0) != RECEIPT_HEADER:
        raise ReceiptError(f"tlog-proof:1: expected the header line '{RECEIPT_HEADER}'")
    pos = 1
    extra = None
    line = line_at(pos)
    if line is not None and line.startswith("extra "):
        extra = _b64decode(line[len("extra "):], f"tlog-proof:{pos + 1}: extra data")
        if not extra:
            raise ReceiptError(f"tlog-proof:{pos + 1}: empty extra data; omit the line instead")
        pos += 1
        line = line_at(pos)
    if line is None or not line.startswith("index "):
        raise ReceiptError(f"tlog-proof:{pos + 1}: expected 'index <decimal entry index>'")
    index = _decimal(line[len("index "):], f"tlog-proof:{pos + 1}: index")
    pos += 1
    proof: List[bytes] = []
    while True:
        line = line_at(pos)
        if line is None:
            raise ReceiptError(f"tlog-proof:{pos + 1}: missing the empty line before the "
                               "checkpoint")
        pos += 1
        if line == "":
            break
        if len(proof) == _MAX_PROOF_HASHES:
            raise ReceiptError(f"tlog-proof:{pos}: more than {_MAX_PROOF_HASHES} proof hashes")
        node = _b64decode(line, f"tlog-proof:{pos}: proof hash")
        if len(node) != HASH_SIZE:
            raise ReceiptError(f"tlog-proof:{pos}: proof hash has {len(node)} bytes, expected "
                               f"{HASH_SIZE}")
        proof.append(node)
    checkpoint = "\n".join(lines[pos:])
    if not checkpoint:
        raise ReceiptError(f"tlog-proof:{pos + 1}: missing the checkpoint")
    return Receipt(index, tuple(proof), checkpoint, extra)


def format_receipt(receipt: Receipt) -> str:
    out = RECEIPT_HEADER + "\n"
    if receipt.extra:
        out += "extra " + base64.b64encode(receipt.extra).decode("ascii") + "\n"
    out += f"index {receipt.index}\n"
    out += "".join(base64.b64encode(h).decode("ascii") + "\n" for h in receipt.proof)
    return out + "\n" + receipt.signed_checkpoint


def open_checkpoint(signed_note: Union[str, bytes], public_keys, *, origin: Optional[str] = None,
                    backend: Optional[str] = None) -> Checkpoint:
    """Verifies a signed checkpoint against trusted keys and parses it. With `origin`, the
    checkpoint must be for that log."""
    note = open_note(signed_note, public_keys, backend=backend)
    checkpoint = parse_checkpoint(note.text)
    if origin is not None and checkpoint.origin != origin:
        raise ReceiptError(f"checkpoint: origin '{checkpoint.origin}' is not the expected log "
                           f"'{origin}'")
    return checkpoint


def verify_checkpoint_consistency(older: Checkpoint, newer: Checkpoint,
                                  proof: Sequence[bytes]) -> None:
    """Raises ReceiptError unless `newer` extends `older`: same origin and an RFC 9162
    consistency proof between their sizes (e.g. from Client.audit_consistency). Open both
    checkpoints with open_checkpoint first; this checks only how they relate."""
    if older.origin != newer.origin:
        raise ReceiptError(f"checkpoints of different logs: '{older.origin}' and "
                           f"'{newer.origin}'")
    verify_consistency(older.size, newer.size, proof, older.root_hash, newer.root_hash)


def verify_receipt(receipt_text: Union[str, bytes], entry_bytes: Optional[bytes] = None,
                   public_key=None, *, leaf_hash: Optional[bytes] = None,
                   origin: Optional[str] = None, backend: Optional[str] = None) -> Checkpoint:
    """Verifies a C2SP tlog-proof receipt offline and returns the verified checkpoint
    (origin, size, root_hash).

    entry_bytes: the log entry exactly as stored (custos: the `entry` of
      GET /v1/audit/proof/{index}, base64-decoded); its leaf hash is SHA-256(0x00 || entry).
      Logs whose entries you only know by leaf hash: pass `leaf_hash=` instead.
    public_key: the trusted vkey string (GET /v1/audit/pubkey, pinned out of band), a
      VerifierKey, or a list of them.
    origin: when given, the checkpoint must name this log.
    backend: "cryptography" or "openssl" to force the Ed25519 verifier (default: the first
      available, in that order).
    Raises ReceiptError naming what failed: the receipt's syntax (with its line), the
    signature, the origin, or the inclusion proof."""
    if public_key is None:
        raise ReceiptError("verify_receipt: a trusted public key (vkey) is required")
    if (entry_bytes is None) == (leaf_hash is None):
        raise ReceiptError("verify_receipt: give exactly one of entry_bytes and leaf_hash")
    leaf = hash_leaf(entry_bytes) if entry_bytes is not None else bytes(leaf_hash)
    receipt = parse_receipt(receipt_text)
    checkpoint = open_checkpoint(receipt.signed_checkpoint, public_key, origin=origin,
                                 backend=backend)
    verify_inclusion(receipt.index, checkpoint.size, leaf, receipt.proof, checkpoint.root_hash)
    return checkpoint


__all__ = [
    "Checkpoint", "Note", "NoteSignature", "Receipt", "ReceiptError", "VerifierKey",
    "ed25519_backend_available", "ed25519_spki_der", "format_receipt", "hash_children",
    "hash_leaf", "inclusion_proof_length", "note_key_id", "open_checkpoint", "open_note",
    "parse_checkpoint", "parse_note", "parse_receipt", "root_from_inclusion_proof",
    "verify_checkpoint_consistency", "verify_consistency", "verify_inclusion",
    "verify_receipt",
]
