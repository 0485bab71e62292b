"""Where the tests find the shared conformance vectors: $CUSTOS_SHARED_DIR, else ../shared
next to the repository that holds this python/ folder."""
import os
import sys

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(PYTHON_DIR)
SHARED_DIR = os.environ.get("CUSTOS_SHARED_DIR") or os.path.join(os.path.dirname(REPO_DIR),
                                                                 "shared")
VECTORS_DIR = os.path.join(SHARED_DIR, "vectors")

if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)
