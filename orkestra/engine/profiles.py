"""Built-in profiles and the lookup that lets a katalog's own profiles win.

Profiles are named presets referenced by ``profile:`` fields (container resources, probes,
container and pod security, rolling updates, network policies, quotas, limit ranges). The
built-in values below are Orkestra-for-Python's own; a user profile with the same name
replaces the built-in one.
"""

from __future__ import annotations

import copy

from orkestra.errors import OrkError
from orkestra.kubeobjects import Json, JsonDict, JsonObject

# class -> profile name -> the values it stands for
BUILTIN: dict[str, dict[str, JsonDict]] = {
    "resources": {
        "small": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "250m", "memory": "256Mi"},
        },
        "standard": {
            "requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"cpu": "500m", "memory": "512Mi"},
        },
        "burst": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        },
        "compute-heavy": {
            "requests": {"cpu": "1", "memory": "1Gi"},
            "limits": {"cpu": "2", "memory": "2Gi"},
        },
    },
    "probes": {
        "standard": {
            "initialDelaySeconds": 5,
            "periodSeconds": 10,
            "timeoutSeconds": 1,
            "failureThreshold": 3,
        },
        "fast": {
            "initialDelaySeconds": 1,
            "periodSeconds": 5,
            "timeoutSeconds": 1,
            "failureThreshold": 3,
        },
        "slow-start": {
            "initialDelaySeconds": 30,
            "periodSeconds": 10,
            "timeoutSeconds": 3,
            "failureThreshold": 10,
        },
        "strict": {
            "initialDelaySeconds": 5,
            "periodSeconds": 5,
            "timeoutSeconds": 1,
            "failureThreshold": 1,
        },
    },
    "containerSecurity": {
        "baseline": {"allowPrivilegeEscalation": False},
        "restricted": {
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "hardened": {
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    },
    "podSecurity": {
        "baseline": {"seccompProfile": {"type": "RuntimeDefault"}},
        "restricted": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "hardened": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "fsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    },
    "rollingUpdate": {
        "safe": {"maxSurge": 1, "maxUnavailable": 0},
        "fast": {"maxSurge": "100%", "maxUnavailable": "50%"},
        "blue-green": {"maxSurge": "100%", "maxUnavailable": 0},
    },
    "networkPolicies": {
        "deny-all": {"policyTypes": ["Ingress", "Egress"]},
        "deny-ingress": {"policyTypes": ["Ingress"]},
        "same-namespace": {
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {}}]}],
        },
    },
    "resourceQuotas": {
        "small-team": {"hard": {"requests.cpu": "4", "requests.memory": "8Gi", "pods": "20"}},
        "large-team": {"hard": {"requests.cpu": "16", "requests.memory": "32Gi", "pods": "100"}},
    },
    "limitRanges": {
        "default-limits": {
            "limits": [
                {
                    "type": "Container",
                    "default": {"cpu": "500m", "memory": "512Mi"},
                    "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                }
            ]
        },
    },
    "hpa": {
        "gentle": {"scaleDown": {"stabilizationWindowSeconds": 300}},
        "aggressive": {
            "scaleUp": {"stabilizationWindowSeconds": 0},
            "scaleDown": {"stabilizationWindowSeconds": 60},
        },
    },
    "pdb": {},
}
_ALIASES = {"securityContext": "containerSecurity"}


class ProfileError(OrkError):
    """A profile reference names no profile."""


class Profiles:
    """Built-in profiles overlaid with a katalog's ``profiles:`` block."""

    def __init__(self, user: JsonObject | None = None) -> None:
        self.classes = copy.deepcopy(BUILTIN)
        for cls, entries in (user or {}).items():
            if isinstance(entries, list):
                for entry in entries:
                    name, values = _user_profile(cls, entry)
                    self.classes.setdefault(cls, {})[name] = values

    def get(self, cls: str, name: str) -> JsonDict:
        cls = _ALIASES.get(cls, cls)
        found = self.classes.get(cls, {}).get(name)
        if found is None:
            known = ", ".join(sorted(self.classes.get(cls, {}))) or "(none)"
            raise ProfileError(f'no {cls} profile named "{name}" (known: {known})')
        return copy.deepcopy(found)


def _user_profile(cls: str, entry: Json) -> tuple[str, JsonDict]:
    """A katalog's profile entry (the schema check made it a map with a ``name``): its name
    and values."""
    if isinstance(entry, dict):
        name = entry.get("name")
        if isinstance(name, str):
            return name, {k: v for k, v in entry.items() if k != "name"}
    raise ProfileError(f"profiles.{cls}: an entry is not a map with a name")
