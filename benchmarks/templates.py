"""Equivalent template pairs (Go syntax, Jinja2 syntax) for the throughput benchmark.

PACK holds the templates the registry-guide pack's katalog and motifs render for each CR;
SYNTHETIC exercises control flow, loops, maps, formatting and pipelines. Both engines get
the same data and, where a template calls an Orkestra note, the same Python function.
"""

from __future__ import annotations

from typing import Any

PACK: list[tuple[str, str]] = [
    ("{{ .metadata.name }}", "{{ metadata.name }}"),
    ("{{ .spec.image }}", "{{ spec.image }}"),
    ("{{ .spec.replicas | default 1 }}", "{{ spec.replicas | default(1) }}"),
    ("{{ .spec.port | default 8080 }}", "{{ spec.port | default(8080) }}"),
    ("{{ .metadata.name }}-svc", "{{ metadata.name }}-svc"),
    ("{{ .spec.host }}", "{{ spec.host }}"),
    ("{{ .metadata.name }}-ingress", "{{ metadata.name }}-ingress"),
    ("{{ .metadata.name }}-headless", "{{ metadata.name }}-headless"),
    ("{{ allReplicasReady .children.deployment }}", "{{ allReplicasReady(children.deployment) }}"),
    (
        "{{ .metadata.name }}-svc.{{ .metadata.namespace }}.svc:{{ .spec.port | default 8080 }}",
        "{{ metadata.name }}-svc.{{ metadata.namespace }}.svc:{{ spec.port | default(8080) }}",
    ),
    ("{{ .metadata.name }}-creds", "{{ metadata.name }}-creds"),
    (
        "image must be pulled from the internal registry (ghcr.io/orkspace/)",
        "image must be pulled from the internal registry (ghcr.io/orkspace/)",
    ),
]

SYNTHETIC: list[tuple[str, str]] = [
    (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .metadata.name }}\n"
        "  namespace: {{ .metadata.namespace }}\nspec:\n  ports:\n  - port: {{ .spec.port }}\n",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ metadata.name }}\n"
        "  namespace: {{ metadata.namespace }}\nspec:\n  ports:\n  - port: {{ spec.port }}\n",
    ),
    (
        "{{ range .spec.items }}{{ .name }}={{ .value }},{{ end }}",
        "{% for i in spec['items'] %}{{ i.name }}={{ i.value }},{% endfor %}",
    ),
    (
        "{{ if gt .spec.replicas 2 }}ha{{ else }}single{{ end }}",
        "{% if spec.replicas > 2 %}ha{% else %}single{% endif %}",
    ),
    (
        "{{ range $k, $v := .metadata.labels }}{{ $k }}: {{ $v }}\n{{ end }}",
        "{% for k, v in metadata.labels|dictsort %}{{ k }}: {{ v }}\n{% endfor %}",
    ),
    (
        '{{ printf "%s-%d" .metadata.name .spec.replicas }}',
        "{{ '%s-%d' % (metadata.name, spec.replicas) }}",
    ),
    (
        '{{ .metadata.name | upper | replace "-" "_" }}',
        "{{ metadata.name | upper | replace('-', '_') }}",
    ),
    (
        "{{ with .spec.db }}{{ .host }}:{{ .port }}{{ end }}",
        "{% if spec.db %}{{ spec.db.host }}:{{ spec.db.port }}{% endif %}",
    ),
    (
        '{{ if and .spec.db (eq .spec.tier "gold") }}replicated{{ end }}',
        "{% if spec.db and spec.tier == 'gold' %}replicated{% endif %}",
    ),
    (
        "{{ len .spec.items }} items, first {{ (index .spec.items 0).name }}",
        "{{ spec['items'] | length }} items, first {{ spec['items'][0].name }}",
    ),
]


def data() -> dict[str, Any]:
    return {
        "metadata": {
            "name": "my-webapp",
            "namespace": "team-a",
            "labels": {"app": "web", "team": "api", "tier": "front"},
        },
        "spec": {
            "image": "ghcr.io/orkspace/demo:1.0",
            "replicas": 3,
            "port": 8080,
            "tier": "gold",
            "db": {"host": "db.svc", "port": 5432},
            "items": [{"name": f"n{i}", "value": i} for i in range(10)],
        },
        "children": {"deployment": {"spec": {"replicas": 3}, "status": {"readyReplicas": 3}}},
    }
