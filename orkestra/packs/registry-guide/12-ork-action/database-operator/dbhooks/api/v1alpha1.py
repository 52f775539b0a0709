"""The Database custom resource (rkguide.demo/v1alpha1) as pydantic models.

The katalog names this module in ``apiTypes.location`` and the class in ``apiTypes.object``:
each cycle the runtime validates the CR against :class:`Database` and hands the hooks the
instance, so they read ``db.spec.backup.schedule`` instead of digging through mappings.
Fields, defaults and limits are the same as the openAPI schema in ``crd.yaml``; names are
camelCase in YAML (``retentionDays``) and snake_case here (``retention_days``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class Backup(_Model):
    enabled: bool = True
    schedule: str = "0 2 * * *"
    retention_days: int = Field(default=7, ge=1, le=365)


class DatabaseSpec(_Model):
    engine: Literal["postgres", "mysql"] = "postgres"
    version: str = "16"
    storage: str = Field(default="10Gi", pattern=r"^[0-9]+(Mi|Gi|Ti)$")
    storage_class: str | None = None
    region: str | None = None
    reclaim_policy: Literal["Retain", "Delete"] = "Retain"
    backup: Backup = Field(default_factory=Backup)


class ObjectMeta(_Model):
    model_config = ConfigDict(extra="allow")

    name: str
    namespace: str = "default"
    uid: str = ""
    generation: int = 0
    labels: dict[str, str] = Field(default_factory=dict)


class Database(_Model):
    """A Database CR; ``status`` is what the runtime last wrote (read-only here)."""

    model_config = ConfigDict(extra="allow")

    api_version: str = "rkguide.demo/v1alpha1"
    kind: str = "Database"
    metadata: ObjectMeta
    spec: DatabaseSpec = Field(default_factory=DatabaseSpec)
    status: dict[str, Any] = Field(default_factory=dict)
