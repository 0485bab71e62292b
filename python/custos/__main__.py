"""`python3 -m custos verify RECEIPT ENTRY VKEY`: verifies an audit receipt offline and prints
the checkpoint it proves inclusion in. Exit 0 verified, 1 not verified, 2 usage error."""

import argparse
import base64
import sys
from typing import List, Optional

from .errors import ReceiptError
from .receipt import parse_receipt, verify_receipt


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m custos",
                                     description="Offline tools for custos audit receipts.")
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser("verify", help="verify a C2SP tlog-proof receipt")
    verify.add_argument("receipt", help="file holding the receipt text")
    verify.add_argument("entry", nargs="?",
                        help="file holding the entry bytes (raw; see --entry-base64)")
    verify.add_argument("vkey", help="the trusted verifier key, or @FILE holding it")
    verify.add_argument("--entry-base64", action="store_true",
                        help="the entry file holds base64 (the 'entry' of /v1/audit/proof)")
    verify.add_argument("--leaf-hash", help="base64 leaf hash instead of an entry file")
    verify.add_argument("--origin", help="the log's expected origin line")
    verify.add_argument("--backend", choices=("cryptography", "openssl"),
                        help="force the Ed25519 verifier")
    args = parser.parse_args(argv)
    try:
        with open(args.receipt, "rb") as f:
            text = f.read()
        vkey = args.vkey
        if vkey.startswith("@"):
            with open(vkey[1:]) as f:
                vkey = f.read().strip()
        entry = leaf = None
        if args.leaf_hash:
            if args.entry:
                parser.error("give an entry file or --leaf-hash, not both")
            leaf = base64.b64decode(args.leaf_hash, validate=True)
        elif args.entry:
            with open(args.entry, "rb") as f:
                entry = f.read()
            if args.entry_base64:
                entry = base64.b64decode(entry.strip(), validate=True)
        else:
            parser.error("give an entry file or --leaf-hash")
    except (OSError, ValueError) as e:
        print(f"custos verify: {e}", file=sys.stderr)
        return 2
    try:
        cp = verify_receipt(text, entry, vkey, leaf_hash=leaf, origin=args.origin,
                            backend=args.backend)
    except ReceiptError as e:
        print(f"custos verify: NOT VERIFIED: {e}", file=sys.stderr)
        return 1
    print(f"verified: entry {parse_receipt(text).index} is in {cp.origin} of size {cp.size}, root {base64.b64encode(cp.root_hash).decode()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
