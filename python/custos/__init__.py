"""custos: a Python client for the custos server (encrypted, policy-checked, audited ML data)
and an offline verifier of its audit receipts."""

from .client import (AuditProof, Client, TrainingRows, online_features_to_dict,
                     parse_rfc3339)
from .errors import (AuditUnavailable, BadRequest, Conflict, CustosError, DataLoss,
                     FailedPrecondition, Forbidden, MethodNotAllowed, NotFound,
                     PayloadTooLarge, ProtocolError, RateLimited, ReceiptError,
                     RequestTimeout, ServerError, TokenExpired, TransportError,
                     Unauthenticated, Unavailable, UnsupportedMediaType)
from .receipt import (Checkpoint, VerifierKey, hash_leaf, open_checkpoint, open_note,
                      parse_checkpoint, parse_receipt, verify_checkpoint_consistency,
                      verify_consistency, verify_inclusion, verify_receipt)

__version__ = "0.1.0"

__all__ = [
    "AuditProof", "AuditUnavailable", "BadRequest", "Checkpoint", "Client", "Conflict",
    "CustosError", "DataLoss", "FailedPrecondition", "Forbidden", "MethodNotAllowed",
    "NotFound", "PayloadTooLarge", "ProtocolError", "RateLimited", "ReceiptError",
    "RequestTimeout", "ServerError", "TokenExpired", "TrainingRows", "TransportError",
    "Unauthenticated", "Unavailable", "UnsupportedMediaType", "VerifierKey", "hash_leaf",
    "online_features_to_dict", "open_checkpoint", "open_note", "parse_checkpoint",
    "parse_receipt", "parse_rfc3339", "verify_checkpoint_consistency", "verify_consistency",
    "verify_inclusion", "verify_receipt",
]
