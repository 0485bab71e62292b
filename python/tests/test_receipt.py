"""Offline tests of custos.receipt: the transparency-dev RFC 9162 inclusion vectors, the C2SP
signed-note vectors, the real sum.golang.org tlog-proof receipt, receipts over trees we build
here (against a naive RFC 9162 root and path), and tampering, each with both Ed25519
backends (cryptography and the openssl command)."""
import base64
import glob
import hashlib
import json
import os
import subprocess
import sys
import unittest
from unittest import mock

import _paths  # noqa: F401  (sets sys.path)
from custos import receipt as r
from custos.errors import ReceiptError

INCLUSION_DIR = os.path.join(_paths.VECTORS_DIR, "merkle-transparency-dev", "testdata",
                             "inclusion")
NOTE_VECTORS = os.path.join(_paths.VECTORS_DIR, "signed-note", "signed_note_vectors.json")
TLOG_DIR = os.path.join(_paths.VECTORS_DIR, "tlog-proof")
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"

BACKENDS = [b for b in ("cryptography", "openssl") if r.ed25519_backend_available(b)]


def b64(data):
    return base64.b64encode(data).decode()


# --- a naive RFC 9162 tree (section 2.1.1 and 2.1.3.1), written from the definitions -------

def naive_root(leaves):
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return r.hash_leaf(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return r.hash_children(naive_root(leaves[:k]), naive_root(leaves[k:]))


def naive_path(m, leaves):
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return naive_path(m, leaves[:k]) + [naive_root(leaves[k:])]
    return naive_path(m - k, leaves[k:]) + [naive_root(leaves[:k])]


def load_tlog():
    with open(os.path.join(TLOG_DIR, "go.sum-database-tree-43930254.tlog-proof")) as f:
        text = f.read()
    with open(os.path.join(TLOG_DIR, "go.sum-database-tree-43930254.raw"), "rb") as f:
        entry = f.read()
    return text, entry


class InclusionVectorsTest(unittest.TestCase):
    def test_every_inclusion_vector(self):
        files = sorted(glob.glob(os.path.join(INCLUSION_DIR, "**", "*.json"), recursive=True))
        self.assertEqual(len(files), 98, f"inclusion vectors not found under {INCLUSION_DIR}")
        positives = negatives = 0
        for path in files:
            with open(path) as f:
                v = json.load(f)
            name = os.path.relpath(path, INCLUSION_DIR)
            leaf = base64.b64decode(v["leafHash"])
            root = base64.b64decode(v["root"])
            proof = [base64.b64decode(p) for p in (v["proof"] or [])]
            with self.subTest(vector=name, desc=v["desc"]):
                if v["wantErr"]:
                    negatives += 1
                    with self.assertRaises(ReceiptError):
                        r.verify_inclusion(v["leafIdx"], v["treeSize"], leaf, proof, root)
                else:
                    positives += 1
                    r.verify_inclusion(v["leafIdx"], v["treeSize"], leaf, proof, root)
                    self.assertEqual(r.inclusion_proof_length(v["leafIdx"], v["treeSize"]),
                                     len(proof))
        self.assertEqual((positives, negatives), (6, 92))

    def test_messages_name_the_failure(self):
        with open(os.path.join(INCLUSION_DIR, "1", "happy-path.json")) as f:
            v = json.load(f)
        leaf = base64.b64decode(v["leafHash"])
        root = base64.b64decode(v["root"])
        proof = [base64.b64decode(p) for p in v["proof"]]
        with self.assertRaisesRegex(ReceiptError, r"3 hashes.*needs exactly 4"):
            r.verify_inclusion(0, 9, leaf, proof, root)
        with self.assertRaisesRegex(ReceiptError, "index 8 is outside a tree of 8 leaves"):
            r.verify_inclusion(8, 8, leaf, proof, root)
        with self.assertRaisesRegex(ReceiptError, "leaf 1 and its proof lead to root"):
            r.verify_inclusion(1, 8, leaf, proof, root)
        with self.assertRaisesRegex(ReceiptError, "the leaf hash has 9 bytes"):
            r.verify_inclusion(0, 8, b"WrongLeaf", proof, root)

    def test_against_naive_tree(self):
        for size in range(1, 34):
            leaves = [f"entry {i}".encode() for i in range(size)]
            root = naive_root(leaves)
            for index in range(size):
                path = naive_path(index, leaves)
                self.assertEqual(r.inclusion_proof_length(index, size), len(path))
                self.assertEqual(
                    r.root_from_inclusion_proof(index, size, r.hash_leaf(leaves[index]), path),
                    root, f"size {size} index {index}")
                if size > 1:
                    other = (index + 1) % size
                    with self.assertRaises(ReceiptError):
                        r.verify_inclusion(other, size, r.hash_leaf(leaves[index]), path, root)


def naive_consistency(m, leaves, complete=True):
    """RFC 9162 2.1.4.1 SUBPROOF(m, D[n], b)."""
    n = len(leaves)
    if m == n:
        return [] if complete else [naive_root(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return naive_consistency(m, leaves[:k], complete) + [naive_root(leaves[k:])]
    return naive_consistency(m - k, leaves[k:], False) + [naive_root(leaves[:k])]


CONSISTENCY_DIR = os.path.join(_paths.VECTORS_DIR, "merkle-transparency-dev", "testdata",
                               "consistency")


class ConsistencyTest(unittest.TestCase):
    def test_every_consistency_vector(self):
        files = sorted(glob.glob(os.path.join(CONSISTENCY_DIR, "**", "*.json"), recursive=True))
        self.assertEqual(len(files), 98, f"consistency vectors not found under {CONSISTENCY_DIR}")
        outcomes = []
        for path in files:
            with open(path) as f:
                v = json.load(f)
            args = (v["size1"], v["size2"], [base64.b64decode(p) for p in (v["proof"] or [])],
                    base64.b64decode(v["root1"]), base64.b64decode(v["root2"]))
            with self.subTest(vector=os.path.relpath(path, CONSISTENCY_DIR), desc=v["desc"]):
                if v["wantErr"]:
                    with self.assertRaises(ReceiptError):
                        r.verify_consistency(*args)
                else:
                    r.verify_consistency(*args)
                outcomes.append(v["wantErr"])
        self.assertEqual(outcomes.count(False), 6)

    def test_against_naive_tree(self):
        leaves = [bytes([i]) * 3 for i in range(40)]
        roots = [None] + [naive_root(leaves[:n]) for n in range(1, 41)]
        for size2 in range(1, 41):
            for size1 in range(1, size2 + 1):
                proof = naive_consistency(size1, leaves[:size2])
                r.verify_consistency(size1, size2, proof, roots[size1], roots[size2])
                if size1 < size2:
                    with self.assertRaises(ReceiptError):
                        r.verify_consistency(size1, size2, proof, roots[size1], roots[size2 - 1])

    def test_messages(self):
        leaves = [b"a", b"b", b"c", b"d", b"e"]
        roots = {n: naive_root(leaves[:n]) for n in range(1, 6)}
        proof = naive_consistency(3, leaves)
        with self.assertRaisesRegex(ReceiptError, "the log rewrote history"):
            r.verify_consistency(3, 5, proof, roots[3], naive_root([b"a", b"b", b"c", b"d", b"x"]))
        with self.assertRaisesRegex(ReceiptError, "does not lead to the older root of 3"):
            r.verify_consistency(3, 5, proof, roots[2], roots[5])
        with self.assertRaisesRegex(ReceiptError, "the log shrank"):
            r.verify_consistency(5, 3, [], roots[5], roots[3])
        with self.assertRaisesRegex(ReceiptError, "two different roots for the same size 4: "
                                    "the log forked"):
            r.verify_consistency(4, 4, [], roots[4], roots[5])
        with self.assertRaisesRegex(ReceiptError, "too few for sizes 3 and 5"):
            r.verify_consistency(3, 5, proof[:-1], roots[3], roots[5])
        with self.assertRaisesRegex(ReceiptError, "too many for sizes 3 and 5"):
            r.verify_consistency(3, 5, proof + [roots[1]], roots[3], roots[5])
        older = r.Checkpoint("log", 3, roots[3])
        r.verify_checkpoint_consistency(older, r.Checkpoint("log", 5, roots[5]), proof)
        with self.assertRaisesRegex(ReceiptError, "checkpoints of different logs"):
            r.verify_checkpoint_consistency(older, r.Checkpoint("other", 5, roots[5]), proof)


class SignedNoteTest(unittest.TestCase):
    def setUp(self):
        with open(NOTE_VECTORS) as f:
            self.vectors = json.load(f)["vectors"]
        self.assertEqual(len(self.vectors), 6)

    def test_vectors_with_each_backend(self):
        self.assertIn("openssl", BACKENDS, "the openssl command is needed for these tests")
        for backend in BACKENDS:
            for v in self.vectors:
                note = v["text"] + "\n" + v["sig_line"] + "\n"
                with self.subTest(backend=backend, desc=v["desc"]):
                    if v["expect"] == "valid":
                        opened = r.open_note(note, v["vkey"], backend=backend)
                        self.assertEqual(opened.text, v["text"])
                        self.assertEqual(len(opened.signatures), 1)
                    else:
                        with self.assertRaisesRegex(ReceiptError, "does not verify"):
                            r.open_note(note, v["vkey"], backend=backend)

    def test_vkey_parse(self):
        key = r.VerifierKey.parse(PETER_VKEY)
        self.assertEqual((key.name, key.key_id), ("PeterNeumann", 0xc74f20a3))
        self.assertEqual(key.vkey, PETER_VKEY)
        self.assertEqual(r.note_key_id(key.name, key.public_key), 0xc74f20a3)
        with self.assertRaisesRegex(ReceiptError, "key id c74f20a4 does not match.*c74f20a3"):
            r.VerifierKey.parse(PETER_VKEY.replace("c74f20a3", "c74f20a4"))
        with self.assertRaisesRegex(ReceiptError, "expected '<name>\\+<key id hex>"):
            r.VerifierKey.parse("PeterNeumann")
        with self.assertRaisesRegex(ReceiptError, "8 lowercase hex"):
            r.VerifierKey.parse(PETER_VKEY.replace("c74f20a3", "C74F20A3"))
        wrong_type = "x+00000000+" + b64(b"\x02" + bytes(32))
        with self.assertRaisesRegex(ReceiptError, "33 bytes starting 02"):
            r.VerifierKey.parse(wrong_type)

    def test_trust_rules(self):
        v = self.vectors[1]  # PeterNeumann, and EnochRoot signs the same text
        w = self.vectors[2]
        both = v["text"] + "\n" + v["sig_line"] + "\n" + w["sig_line"] + "\n"
        # A signature by an unknown key is ignored when a trusted one verifies.
        self.assertEqual(len(r.open_note(both, PETER_VKEY).signatures), 2)
        self.assertEqual(r.open_note(both, [PETER_VKEY, w["vkey"]]).text, v["text"])
        with self.assertRaisesRegex(ReceiptError, "no signature by a trusted key.*PeterNeumann "
                                    r"\(c74f20a3\), EnochRoot \(af0cfe78\)"):
            r.open_note(both, SUMDB_VKEY)
        twice = v["text"] + "\n" + v["sig_line"] + "\n" + v["sig_line"] + "\n"
        with self.assertRaisesRegex(ReceiptError, "signed twice"):
            r.open_note(twice, PETER_VKEY)
        # A trusted key's bad signature rejects the note even if another trusted key is fine.
        sig = base64.b64decode(w["sig_line"].split(" ")[2])
        bad = w["sig_line"].split(" ")[0] + " EnochRoot " + b64(sig[:-1] + bytes([sig[-1] ^ 1]))
        mixed = v["text"] + "\n" + v["sig_line"] + "\n" + bad + "\n"
        with self.assertRaisesRegex(ReceiptError, "'EnochRoot' \\(af0cfe78\\) does not verify"):
            r.open_note(mixed, [PETER_VKEY, w["vkey"]])

    def test_syntax_errors_name_the_line(self):
        v = self.vectors[0]
        with self.assertRaisesRegex(ReceiptError, "no empty line"):
            r.parse_note(v["text"] + v["sig_line"] + "\n")
        with self.assertRaisesRegex(ReceiptError, "line 3: a signature line must start"):
            r.parse_note(v["text"] + "\n- example.com/foo AAAAAAAA\n")
        with self.assertRaisesRegex(ReceiptError, "must end with a newline"):
            r.parse_note(v["text"] + "\n" + v["sig_line"])
        with self.assertRaisesRegex(ReceiptError, "line 1: control character U\\+0009"):
            r.parse_note("a\tb\n\n" + v["sig_line"] + "\n")
        with self.assertRaisesRegex(ReceiptError, "not canonical base64"):
            r.parse_note(v["text"] + "\n\u2014 k AAAAAAB=\n")

    def test_openssl_missing(self):
        v = self.vectors[0]
        note = v["text"] + "\n" + v["sig_line"] + "\n"
        with mock.patch("shutil.which", return_value=None):
            with self.assertRaisesRegex(ReceiptError, "no Ed25519 verifier: install"):
                r.open_note(note, v["vkey"], backend="openssl")

    def test_spki(self):
        der = r.ed25519_spki_der(bytes(range(32)))
        self.assertEqual(der.hex(), "302a300506032b6570032100" + bytes(range(32)).hex())
        with self.assertRaisesRegex(ReceiptError, "31 bytes, expected 32"):
            r.ed25519_spki_der(bytes(31))


class CheckpointTest(unittest.TestCase):
    def test_parse(self):
        cp = r.parse_checkpoint("go.sum database tree\n63096908\n"
                                "8lHrQPRYe4KT4WQ9/Qk8/taKnD6IRHbFgfN7vQE2Y54=\nextension\n")
        self.assertEqual((cp.origin, cp.size, cp.extensions),
                         ("go.sum database tree", 63096908, ("extension",)))
        self.assertEqual(b64(cp.root_hash), "8lHrQPRYe4KT4WQ9/Qk8/taKnD6IRHbFgfN7vQE2Y54=")

    def test_errors(self):
        root = "8lHrQPRYe4KT4WQ9/Qk8/taKnD6IRHbFgfN7vQE2Y54="
        cases = [
            (f"o\n012\n{root}\n", "checkpoint:2: tree size: '012' is not a decimal"),
            (f"o\n12\n{root[:-4]}\n", "checkpoint:3: root hash has 30 bytes"),
            (f"\n12\n{root}\n", "checkpoint:1: empty origin"),
            (f"o\n12\n{root}\n\n", "checkpoint:4: empty extension line"),
            (f"o\n12\n{root}", "must end with a newline"),
            ("o\n12\n", "2 lines, expected origin, size and root"),
        ]
        for text, message in cases:
            with self.subTest(text=text):
                with self.assertRaisesRegex(ReceiptError, message):
                    r.parse_checkpoint(text)


class TlogProofTest(unittest.TestCase):
    def setUp(self):
        self.text, self.entry = load_tlog()

    def test_real_receipt_with_each_backend(self):
        for backend in BACKENDS:
            with self.subTest(backend=backend):
                cp = r.verify_receipt(self.text, self.entry, SUMDB_VKEY, backend=backend)
                self.assertEqual(cp.origin, "go.sum database tree")
                self.assertEqual(cp.size, 58253265)
                self.assertEqual(b64(cp.root_hash),
                                 "lIyLAEe4zJUQAda6pFFg3yPOf7j1SgfMEDrpgoX39JU=")

    def test_falls_back_to_openssl_without_cryptography(self):
        hidden = {m: None for m in ("cryptography", "cryptography.exceptions",
                                    "cryptography.hazmat.primitives.asymmetric.ed25519")}
        real_run = subprocess.run
        calls = []

        def counting_run(cmd, *args, **kwargs):
            calls.append(cmd[1:3])
            return real_run(cmd, *args, **kwargs)

        with mock.patch.dict(sys.modules, hidden), \
                mock.patch("subprocess.run", side_effect=counting_run):
            self.assertFalse(r.ed25519_backend_available("cryptography"))
            cp = r.verify_receipt(self.text, self.entry, SUMDB_VKEY)
            with self.assertRaisesRegex(ReceiptError, "'cryptography' requested but"):
                r.verify_receipt(self.text, self.entry, SUMDB_VKEY, backend="cryptography")
        self.assertEqual(cp.size, 58253265)
        self.assertEqual(calls, [["pkeyutl", "-verify"]])

    def test_leaf_hash_instead_of_entry(self):
        # sum.golang.org's record hash is the RFC 9162 leaf hash of the raw record, so the
        # entry bytes work as they are; a caller who holds only the leaf hash passes it.
        leaf = hashlib.sha256(b"\x00" + self.entry).digest()
        cp = r.verify_receipt(self.text, public_key=SUMDB_VKEY, leaf_hash=leaf,
                              origin="go.sum database tree")
        self.assertEqual(cp.size, 58253265)
        with self.assertRaisesRegex(ReceiptError, "exactly one of entry_bytes and leaf_hash"):
            r.verify_receipt(self.text, self.entry, SUMDB_VKEY, leaf_hash=leaf)
        with self.assertRaisesRegex(ReceiptError, "leaf 43930254 and its proof lead to root"):
            r.verify_receipt(self.text, public_key=SUMDB_VKEY,
                             leaf_hash=hashlib.sha256(self.entry).digest())

    def test_parse_and_format_round_trip(self):
        rec = r.parse_receipt(self.text)
        self.assertEqual(rec.index, 43930254)
        self.assertEqual(len(rec.proof), 26)
        self.assertIsNone(rec.extra)
        self.assertEqual(r.format_receipt(rec), self.text)

    def test_tampering(self):
        lines = self.text.split("\n")
        first = base64.b64decode(lines[2])
        flipped = lines[:2] + [b64(bytes([first[0] ^ 0x80]) + first[1:])] + lines[3:]
        other_index = [lines[0], "index 43930255"] + lines[2:]
        dropped = lines[:2] + lines[3:]
        signed = self.text.index("go.sum database tree\n")
        bigger = self.text[:signed] + self.text[signed:].replace("58253265", "58253266")
        cases = [
            ("flipped proof hash", "\n".join(flipped), self.entry, SUMDB_VKEY,
             "leaf 43930254 and its proof lead to root"),
            ("wrong index", "\n".join(other_index), self.entry, SUMDB_VKEY,
             "leaf 43930255 and its proof lead to root"),
            ("dropped hash", "\n".join(dropped), self.entry, SUMDB_VKEY,
             "25 hashes, but leaf 43930254 of a tree of 58253265 leaves needs exactly 26"),
            ("altered entry", self.text, self.entry + b"x", SUMDB_VKEY,
             "the entry, its index or a proof hash was altered"),
            ("wrong key", self.text, self.entry, PETER_VKEY,
             r"no signature by a trusted key \(signed by: sum.golang.org \(033de0ae\)"),
            ("altered checkpoint", bigger, self.entry, SUMDB_VKEY,
             "signature by 'sum.golang.org' \\(033de0ae\\) does not verify"),
        ]
        for backend in BACKENDS:
            for name, text, entry, key, message in cases:
                with self.subTest(backend=backend, case=name):
                    with self.assertRaisesRegex(ReceiptError, message):
                        r.verify_receipt(text, entry, key, backend=backend)
        with self.assertRaisesRegex(ReceiptError, "origin 'go.sum database tree' is not the "
                                    "expected log 'custos'"):
            r.verify_receipt(self.text, self.entry, SUMDB_VKEY, origin="custos")

    def test_syntax_errors_name_the_line(self):
        lines = self.text.split("\n")
        cases = [
            ("c2sp.org/tlog-proof@v2\n" + "\n".join(lines[1:]), "tlog-proof:1: expected the header"),
            ("\n".join([lines[0], "index 043930254"] + lines[2:]), "tlog-proof:2: index: '043930254'"),
            ("\n".join([lines[0], "idx 1"] + lines[2:]), "tlog-proof:2: expected 'index"),
            ("\n".join(lines[:4] + ["AAAA"] + lines[4:]), "tlog-proof:5: proof hash has 3 bytes"),
            ("\n".join(lines[:4] + ["A A="] + lines[4:]), "tlog-proof:5: proof hash: 'A A=' is not"),
            ("\n".join(lines[:28]) + "\n", "tlog-proof:29: missing the empty line"),
            ("\n".join(lines[:29]) + "\n", "tlog-proof:30: missing the checkpoint"),
            ("\n".join([lines[0], "extra "] + lines[1:]), "tlog-proof:2: extra data: '' is not"
             "|tlog-proof:2: empty extra data"),
        ]
        for text, message in cases:
            with self.subTest(message=message):
                with self.assertRaisesRegex(ReceiptError, message):
                    r.parse_receipt(text)
        with_extra = "\n".join([lines[0], "extra " + b64(b"app data")] + lines[1:])
        rec = r.parse_receipt(with_extra)
        self.assertEqual(rec.extra, b"app data")
        self.assertEqual(r.format_receipt(rec), with_extra)
        self.assertEqual(r.verify_receipt(with_extra, self.entry, SUMDB_VKEY).size, 58253265)


class CommandLineTest(unittest.TestCase):
    def run_cli(self, *args):
        return subprocess.run([sys.executable, "-m", "custos", *args], capture_output=True,
                              text=True, cwd=_paths.PYTHON_DIR)

    def test_verify(self):
        receipt_file = os.path.join(TLOG_DIR, "go.sum-database-tree-43930254.tlog-proof")
        entry_file = os.path.join(TLOG_DIR, "go.sum-database-tree-43930254.raw")
        ok = self.run_cli("verify", receipt_file, entry_file, SUMDB_VKEY, "--backend", "openssl")
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertEqual(ok.stdout, "verified: entry 43930254 is in go.sum database tree of "
                         "size 58253265, root lIyLAEe4zJUQAda6pFFg3yPOf7j1SgfMEDrpgoX39JU=\n")
        with open(entry_file, "rb") as f:
            leaf = b64(r.hash_leaf(f.read()))
        self.assertEqual(self.run_cli("verify", receipt_file, SUMDB_VKEY,
                                      "--leaf-hash", leaf).returncode, 0)
        bad = self.run_cli("verify", receipt_file, entry_file, PETER_VKEY)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("NOT VERIFIED: signed note: no signature by a trusted key", bad.stderr)
        self.assertEqual(self.run_cli("verify", receipt_file, SUMDB_VKEY).returncode, 2)


@unittest.skipUnless("cryptography" in BACKENDS, "signing our own notes needs cryptography")
class OwnLogTest(unittest.TestCase):
    """Receipts for every entry of small logs signed here, checked with both backends."""

    def setUp(self):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives import serialization
        self.key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
        raw = self.key.public_key().public_bytes(serialization.Encoding.Raw,
                                                 serialization.PublicFormat.Raw)
        kid = r.note_key_id("custos.test/log", raw)
        self.vkey = f"custos.test/log+{kid:08x}+" + b64(b"\x01" + raw)
        self.kid = kid

    def receipt(self, leaves, index):
        text = f"custos.test/log\n{len(leaves)}\n{b64(naive_root(leaves))}\n"
        sig = self.key.sign(text.encode())
        note = text + "\n\u2014 custos.test/log " + b64(self.kid.to_bytes(4, "big") + sig) + "\n"
        return r.format_receipt(r.Receipt(index, tuple(naive_path(index, leaves)), note))

    def test_every_entry(self):
        for size in (1, 2, 3, 7, 8, 13):
            leaves = [json.dumps({"i": i}).encode() for i in range(size)]
            for index in range(size):
                for backend in (BACKENDS if index == size - 1 else BACKENDS[:1]):
                    cp = r.verify_receipt(self.receipt(leaves, index), leaves[index], self.vkey,
                                          origin="custos.test/log", backend=backend)
                    self.assertEqual((cp.size, cp.root_hash), (size, naive_root(leaves)))
                if size > 1:
                    with self.assertRaisesRegex(ReceiptError, "lead to root"):
                        r.verify_receipt(self.receipt(leaves, index), leaves[(index + 1) % size],
                                         self.vkey)


if __name__ == "__main__":
    unittest.main()
