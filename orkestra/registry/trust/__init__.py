"""Signed gate reports: who vouches for a pattern's quality signal, and whether it holds.

``ork push`` signs what its gates found (:mod:`~orkestra.registry.trust.statement`: an
in-toto Statement v1 in a DSSE envelope, :mod:`~orkestra.registry.trust.dsse`) with the
publisher's Ed25519 key (:mod:`~orkestra.registry.trust.keys`) and ships it inside the
artifact as one more layer; ``ork inspect`` and ``ork patterns`` check it against the
manifest (:mod:`~orkestra.registry.trust.verify`): the signature, every file's digest and
every annotation. Only a valid signature by a key the consumer trusts lets a gate read
``✓ Verified``.
"""
