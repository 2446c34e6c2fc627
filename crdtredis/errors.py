"""Errors crdtredis raises on purpose. Each message names the key or region and what to do."""

from __future__ import annotations


class CRDTRedisError(Exception):
    """Base class of every error crdtredis raises on purpose."""


class WrongTypeError(CRDTRedisError, ValueError):
    """A key was used as a type other than the one it was created as."""

    def __init__(self, name: str, stored: str, wanted: str) -> None:
        super().__init__(
            f"key {name!r} has type {stored}, not {wanted}: a key keeps its type for life; "
            "use another key name"
        )
        self.name, self.stored, self.wanted = name, stored, wanted

    @classmethod
    def for_state(cls, name: str, state_type: str, key_type: str) -> WrongTypeError:
        """A state of ``state_type`` given to merge into key ``name`` used as ``key_type``."""
        error = cls(name, key_type, state_type)
        error.args = (
            f"cannot merge a {state_type} state into key {name!r}, which is used as a "
            f"{key_type}: merge states of the key's own type",
        )
        return error


class SlotOverflowError(CRDTRedisError, ValueError):
    """An increment would take a replica slot past 2**63-1."""

    def __init__(self, name: str, amount: int) -> None:
        super().__init__(
            f"increment of key {name!r} by {amount} would overflow this replica's "
            "64-bit slot; nothing was written"
        )
        self.name, self.amount = name, amount


class ObstructedKeyError(CRDTRedisError, ValueError):
    """The Redis key an object lives in holds something crdtredis did not write."""

    def __init__(self, name: str, kind: str) -> None:
        super().__init__(
            f"key {name!r} is taken in the local Redis by a {kind} key that crdtredis did not "
            "write; nothing was written: remove or rename that Redis key, and the object "
            "syncs again at the next pass"
        )
        self.name, self.kind = name, kind


class MissingElementError(CRDTRedisError, IndexError):
    """A sequence write referred to an element that is not stored; nothing was written."""


class InvalidStateError(CRDTRedisError, ValueError):
    """Replicated state (from a peer or a caller) failed validation and was not merged."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"state of key {name!r} rejected, nothing merged: {reason}")
        self.name, self.reason = name, reason


class InvalidKeyNameError(CRDTRedisError, ValueError):
    """A key name that crdtredis cannot store."""


class IdentityError(CRDTRedisError):
    """The Redis a region points at belongs to another region or layout."""


class LayoutError(IdentityError):
    """A Redis (local or a peer's) holds data in another key layout version."""


class ReplicaIdConflict(CRDTRedisError):
    """Two incarnations drew the same replica id: their objects must never meet."""


class BatchError(CRDTRedisError, ValueError):
    """Some keys of a batch failed; the message lists them. The others were applied."""

    def __init__(self, failures: dict[str, Exception], applied: list[str]) -> None:
        detail = "; ".join(f"{k}: {e}" for k, e in sorted(failures.items())[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        super().__init__(
            f"{len(failures)} key(s) of the batch failed and were left as they were, "
            f"{len(applied)} applied: {detail}{more}"
        )
        self.failures, self.applied = failures, applied


def certificate_problem(message: str) -> str | None:
    """What is wrong with a server's TLS certificate, when ``message`` (a connection
    error's) says it did not verify; None for any other error."""
    marker = "certificate verify failed"
    if marker not in message and "CERTIFICATE_VERIFY_FAILED" not in message:
        return None
    _, colon, rest = message.partition(f"{marker}:")
    reason = rest.split("(_ssl", 1)[0].strip(" .") if colon else ""
    return reason or marker


#: What to do about a certificate that did not verify.
CERTIFICATE_ADVICE = (
    "give the CA that signed it as ?ssl_ca_certs=PATH in the URL (or fix the certificate)"
)
