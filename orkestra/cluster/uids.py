"""Object uids: random UUIDs (version 4) as the API server gives them.

What ``str(uuid.uuid4())`` makes, without its cost on every create: no UUID object, and the
random bytes (``os.urandom``, as uuid4 reads them) taken 4 KiB at a time, since a system
call per uid is a good part of a create where system calls are slow (sandboxes). The pool
is shared by the stores of a process under a lock; a forked child drops what it inherited
(the lock too), so parent and child never hand out the same uid.
"""

from __future__ import annotations

import os
import threading

_KEEP = ~((0xC000 << 48) | (0xF000 << 64))  # all but the variant and version bits
_SET = (0x8000 << 48) | (4 << 76)  # the RFC 4122 variant, version 4
_POOL_BYTES = 4096
_lock = threading.Lock()
_pool = b""
_taken = 0


def new_uid() -> str:
    """A fresh random UUID (version 4) as text."""
    global _pool, _taken
    with _lock:
        if _taken >= len(_pool):
            _pool, _taken = os.urandom(_POOL_BYTES), 0
        start = _taken
        _taken += 16
        number = int.from_bytes(_pool[start : start + 16]) & _KEEP | _SET
    text = f"{number:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _forget_pool() -> None:
    # A new lock too: a thread of the parent may have held the old one at the fork.
    global _lock, _pool, _taken
    _lock, _pool, _taken = threading.Lock(), b"", 0


os.register_at_fork(after_in_child=_forget_pool)
