"""A komposer's import policy: which published katalogs it accepts.

``policy:`` at the top of a komposer says what an imported katalog must prove, from its
signed gate report and never from the annotations alone::

    policy:
      requireSigned: true               # a valid signature by a trusted key
      trustedKeys: ["SHA256:…"]         # trusted: these keys (default: ork key list)
      requireGates: [simulate, e2e]     # each passed, as the signed report says
      requireE2ECluster: [kind, existing]  # where the passing e2e ran

``ork pull -f``, ``ork validate``, ``ork run`` and everything else that composes the
komposer resolve imports through the lock, so the policy holds for locked imports too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from orkestra.registry.artifact import CLUSTER_LABELS
from orkestra.registry.client import RegistryClient
from orkestra.registry.info import PatternInfo
from orkestra.registry.sources import Located
from orkestra.registry.trust.verify import VERIFIED, Verification, trusted_ids, verify


@dataclass(frozen=True, kw_only=True)
class ImportPolicy:
    require_signed: bool = False
    trusted_keys: tuple[str, ...] = ()
    require_gates: tuple[str, ...] = ()
    require_e2e_cluster: tuple[str, ...] = ()
    _trusted: dict[RegistryClient, frozenset[str]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    """The trusted key ids, worked out once per client (reading the keyring is not free)."""

    @classmethod
    def of(cls, data: Mapping[str, object]) -> ImportPolicy:
        """The policy of a pattern document (validated by its schema before)."""
        policy = data.get("policy") if isinstance(data.get("policy"), dict) else {}
        assert isinstance(policy, dict)
        return cls(
            require_signed=policy.get("requireSigned") is True,
            trusted_keys=tuple(str(k) for k in policy.get("trustedKeys") or ()),
            require_gates=tuple(str(g) for g in policy.get("requireGates") or ()),
            require_e2e_cluster=tuple(str(c) for c in policy.get("requireE2ECluster") or ()),
        )

    @property
    def active(self) -> bool:
        return bool(
            self.require_signed
            or self.trusted_keys
            or self.require_gates
            or self.require_e2e_cluster
        )

    def check(self, client: RegistryClient, located: Located) -> list[str]:
        """Why ``located`` does not meet the policy (empty: it does)."""
        return self.violations(located.info, self.proof(client, located))

    def proof(self, client: RegistryClient, located: Located) -> Verification:
        """The signed report of a cached pattern, checked against its manifest, the
        policy's keys trusted (else the user's)."""
        return verify(
            located.info.manifest,
            lambda layer: located.file(layer.title).read_bytes(),
            self.trusted(client),
        )

    def trusted(self, client: RegistryClient) -> frozenset[str]:
        """The key ids this policy trusts: ``trustedKeys``, else the user's trusted keys
        (read once for this policy)."""
        if client not in self._trusted:
            self._trusted[client] = (
                frozenset(self.trusted_keys)
                if self.trusted_keys
                else frozenset(trusted_ids(client))
            )
        return self._trusted[client]

    def violations(self, info: PatternInfo, proof: Verification) -> list[str]:
        reasons = []
        whose = "policy.trustedKeys" if self.trusted_keys else "your trusted keys"
        if self.require_signed or self.trusted_keys:
            if proof.state != VERIFIED:
                reasons.append(
                    f"its signature does not verify ({proof.state}: {proof.reason})"
                    if proof.reasons
                    else f"it is {proof.state}"
                )
            elif not proof.trusted:
                reasons.append(f"it is signed by {proof.key_id}, which is not in {whose}")
        if (self.require_gates or self.require_e2e_cluster) and proof.state != VERIFIED:
            if not reasons:
                reasons.append(f"its gate results cannot be verified ({proof.state})")
            return reasons
        records = {"simulate": info.simulate, "e2e": info.e2e}
        for gate in self.require_gates:
            record = records.get(gate)
            if record is None or record.status != "passed":
                reasons.append(
                    f"its {gate} gate did not pass ({record.status if record else 'not run'})"
                )
        e2e = info.e2e
        if self.require_e2e_cluster and (
            e2e is None or e2e.status != "passed" or e2e.cluster not in self.require_e2e_cluster
        ):
            where = (
                CLUSTER_LABELS.get(e2e.cluster, e2e.cluster or "unknown")
                if e2e is not None and e2e.status == "passed"
                else "no passing e2e"
            )
            reasons.append(
                f"its e2e did not pass on {' or '.join(self.require_e2e_cluster)} ({where})"
            )
        return reasons
