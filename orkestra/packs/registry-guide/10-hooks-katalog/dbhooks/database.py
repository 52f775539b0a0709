"""Typed hooks of the Database CRD (rkguide.demo/v1alpha1).

The katalog names :func:`database_hooks` under ``operatorBox.hooks``. Orkestra keeps doing
what it does for every operator (the watch, the queue and its workers, the finalizer, the
Ready condition, Events, metrics); the hooks hold the logic that templates cannot express:
the engine decides the image, port, probes, data directory and environment of everything
created below.

Every cycle ``on_reconcile`` brings four objects to their desired state through
``ctx.client.apply`` (create or update; an unchanged object is not written; each gets an
ownerReference to the Database, so Kubernetes deletes them with it):

- ``<name>-credentials``: a Secret with a generated password, created once, never rotated;
- ``<name>-headless``: the headless Service giving each member a stable DNS name;
- ``<name>``: the StatefulSet, one primary plus ``readReplicaCount`` read replicas, one
  volume each;
- ``<name>-backup``: the backup CronJob on ``spec.backup.schedule`` (deleted when backups
  are disabled).

It then sets the status: ``phase`` (Provisioning until every member is ready, then
Running), ``endpoint`` (the primary), ``replicas``/``readyReplicas``, ``region``, ``backup``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from orkestra.hooks import HookContext, HookSet

from .api.v1alpha1 import Database

Obj = dict[str, Any]
BACKUP_IMAGE = "ghcr.io/orkspace/demo-db-backup:1.0.0"


@dataclass(frozen=True)
class Engine:
    """What differs between the engines."""

    image: str
    port: int
    data_dir: str
    user: str
    password_env: str
    probe: tuple[str, ...]
    uid: int


ENGINES = {
    "postgres": Engine(
        "postgres",
        5432,
        "/var/lib/postgresql/data",
        "postgres",
        "POSTGRES_PASSWORD",
        ("pg_isready", "--host", "127.0.0.1", "--username", "postgres"),
        999,
    ),
    "mysql": Engine(
        "mysql",
        3306,
        "/var/lib/mysql",
        "root",
        "MYSQL_ROOT_PASSWORD",
        ("mysqladmin", "ping", "--host", "127.0.0.1"),
        999,
    ),
}


def database_hooks() -> HookSet[Database]:
    """The hook set the katalog names (``operatorBox.hooks.function``)."""
    return HookSet(on_create=on_create, on_reconcile=on_reconcile, on_delete=on_delete, timeout=20)


def on_create(db: Database, ctx: HookContext) -> None:
    """The first cycle of a new Database: say what is being provisioned."""
    spec = db.spec
    ctx.events.normal(
        "Provisioning",
        f"{spec.engine} {spec.version}, {spec.storage} per "
        f"member, {1 + ctx.args.get_int('readReplicaCount')} members in "
        f"{ctx.args.get_str('region')}",
    )


def on_reconcile(db: Database, ctx: HookContext) -> None:
    """Every cycle: the Secret, the Service, the StatefulSet, the CronJob, the status."""
    engine = ENGINES[db.spec.engine]
    region = ctx.args.get_str("region")
    replicas = 1 + ctx.args.get_int("readReplicaCount")
    name = db.metadata.name

    ctx.client.apply(credentials(db, engine), create_only=True)  # its password stays
    ctx.client.apply(headless_service(db, engine))
    stored = ctx.client.apply(statefulset(db, engine, replicas, region))
    if db.spec.backup.enabled:
        ctx.client.apply(backup_cronjob(db, engine, region))
    elif ctx.client.delete("batch/v1", "CronJob", f"{name}-backup"):
        ctx.events.normal("BackupDisabled", f"deleted CronJob {name}-backup")

    ready = int((stored.get("status") or {}).get("readyReplicas") or 0)
    ctx.status.update(
        {
            "phase": "Running" if ready >= replicas else "Provisioning",
            "endpoint": f"{name}-0.{name}-headless.{db.metadata.namespace}.svc.cluster.local:"
            f"{engine.port}",
            "replicas": replicas,
            "readyReplicas": ready,
            "region": region,
            "backup": db.spec.backup.schedule if db.spec.backup.enabled else "disabled",
        }
    )


def on_delete(db: Database, ctx: HookContext) -> None:
    """The Database is being deleted: stop the backups first, say what stays behind.

    Kubernetes deletes the StatefulSet, the Service, the Secret and the CronJob through
    their ownerReferences; deleting the CronJob here makes sure no backup starts while the
    database goes away. The volumes follow ``spec.reclaimPolicy``."""
    name = db.metadata.name
    ctx.client.delete("batch/v1", "CronJob", f"{name}-backup")
    kept = (
        "are kept (reclaimPolicy Retain)"
        if db.spec.reclaim_policy == "Retain"
        else "are deleted with it"
    )
    ctx.events.normal(
        "Deprovisioning",
        f"backups stopped; volumes data-{name}-* {kept}; "
        f"backups in {backup_target(db, ctx.args.get_str('region'))} stay",
    )


# -- the objects ---------------------------------------------------------------------


def labels(db: Database) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": db.spec.engine,
        "app.kubernetes.io/instance": db.metadata.name,
        "app.kubernetes.io/component": "database",
    }


def backup_target(db: Database, region: str) -> str:
    return f"s3://rkguide-backups-{region}/{db.metadata.namespace}/{db.metadata.name}"


def password_ref(db: Database) -> Obj:
    return {"secretKeyRef": {"name": f"{db.metadata.name}-credentials", "key": "password"}}


def credentials(db: Database, engine: Engine) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": f"{db.metadata.name}-credentials", "labels": labels(db)},
        "type": "Opaque",
        "stringData": {"username": engine.user, "password": secrets.token_urlsafe(24)},
    }


def headless_service(db: Database, engine: Engine) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"{db.metadata.name}-headless", "labels": labels(db)},
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": True,  # members find each other while starting
            "selector": labels(db),
            "ports": [{"name": db.spec.engine, "port": engine.port, "targetPort": db.spec.engine}],
        },
    }


def statefulset(db: Database, engine: Engine, replicas: int, region: str) -> Obj:
    name, spec = db.metadata.name, db.spec
    probe = {"exec": {"command": list(engine.probe)}}
    claim: Obj = {
        "metadata": {"name": "data", "labels": labels(db)},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": spec.storage}},
        },
    }
    if spec.storage_class:
        claim["spec"]["storageClassName"] = spec.storage_class
    env: list[Obj] = [{"name": engine.password_env, "valueFrom": password_ref(db)}]
    if spec.engine == "postgres":
        env.append({"name": "PGDATA", "value": f"{engine.data_dir}/pgdata"})
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "labels": {**labels(db), "rkguide.demo/region": region}},
        "spec": {
            "serviceName": f"{name}-headless",
            "replicas": replicas,
            "podManagementPolicy": "OrderedReady",  # the primary (-0) starts first
            "selector": {"matchLabels": labels(db)},
            "persistentVolumeClaimRetentionPolicy": {
                "whenDeleted": spec.reclaim_policy,
                "whenScaled": "Retain",
            },
            "template": {
                "metadata": {"labels": {**labels(db), "rkguide.demo/region": region}},
                "spec": {
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": engine.uid,
                        "fsGroup": engine.uid,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "terminationGracePeriodSeconds": 60,
                    "containers": [
                        {
                            "name": spec.engine,
                            "image": f"{engine.image}:{spec.version}",
                            "ports": [{"name": spec.engine, "containerPort": engine.port}],
                            "env": env,
                            "readinessProbe": {
                                **probe,
                                "initialDelaySeconds": 5,
                                "periodSeconds": 10,
                            },
                            "livenessProbe": {
                                **probe,
                                "initialDelaySeconds": 30,
                                "periodSeconds": 20,
                                "failureThreshold": 6,
                            },
                            "resources": {
                                "requests": {"cpu": "250m", "memory": "512Mi"},
                                "limits": {"memory": "1Gi"},
                            },
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "capabilities": {"drop": ["ALL"]},
                            },
                            "volumeMounts": [{"name": "data", "mountPath": engine.data_dir}],
                        }
                    ],
                },
            },
            "volumeClaimTemplates": [claim],
        },
    }


def backup_cronjob(db: Database, engine: Engine, region: str) -> Obj:
    name, backup = db.metadata.name, db.spec.backup
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": f"{name}-backup", "labels": labels(db)},
        "spec": {
            "schedule": backup.schedule,
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 2,
                    "activeDeadlineSeconds": 3600,
                    "template": {
                        "metadata": {
                            "labels": {**labels(db), "app.kubernetes.io/component": "backup"}
                        },
                        "spec": {
                            "restartPolicy": "OnFailure",
                            "securityContext": {
                                "runAsNonRoot": True,
                                "runAsUser": 65532,
                                "seccompProfile": {"type": "RuntimeDefault"},
                            },
                            "containers": [
                                {
                                    "name": "backup",
                                    "image": BACKUP_IMAGE,
                                    "args": [
                                        f"--engine={db.spec.engine}",
                                        f"--host={name}-0.{name}-headless",
                                    ],
                                    "env": [
                                        {"name": "DB_PORT", "value": str(engine.port)},
                                        {"name": "DB_USER", "value": engine.user},
                                        {"name": "DB_PASSWORD", "valueFrom": password_ref(db)},
                                        {
                                            "name": "BACKUP_TARGET",
                                            "value": backup_target(db, region),
                                        },
                                        {
                                            "name": "RETENTION_DAYS",
                                            "value": str(backup.retention_days),
                                        },
                                    ],
                                    "resources": {
                                        "requests": {"cpu": "100m", "memory": "128Mi"},
                                        "limits": {"memory": "512Mi"},
                                    },
                                    "securityContext": {
                                        "allowPrivilegeEscalation": False,
                                        "capabilities": {"drop": ["ALL"]},
                                    },
                                }
                            ],
                        },
                    },
                }
            },
        },
    }
