"""Broken patterns and the exact errors they must produce (see test_broken_patterns.py).

Each case is a set of files; the first one is validated. Files are written verbatim, so
the line numbers in the expected errors are the lines of these texts.
"""

from __future__ import annotations

from dataclasses import dataclass

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: webapps.rkguide.demo
spec:
  group: rkguide.demo
  scope: Namespaced
  names: {kind: WebApp, plural: webapps}
  versions:
    - name: v1
      served: true
      storage: true
"""

MOTIF = """\
apiVersion: orkestra.orkspace.io/v1
kind: Motif
metadata:
  name: web
  version: v1.0.0
inputs:
  - name: image
    required: true
  - name: port
    default: "8080"
resources:
  deployments:
    - name: "{{ .metadata.name }}"
      image: "{{ .inputs.image }}"
      port: "{{ .inputs.port }}"
"""


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str]
    errors: str  # the rendered errors, one per problem, exactly


def katalog(crd_body: str, *, head: str = "") -> str:
    """A katalog with one CRD ``web`` whose entry body is ``crd_body`` (indented 6)."""
    body = "\n".join("      " + line if line else "" for line in crd_body.splitlines())
    return (
        f"apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\n{head}"
        "metadata:\n  name: web-operator\n  version: v1.0.0\nspec:\n  crds:\n    web:\n"
        f"{body}\n"
    )


API = "apiTypes: {group: rkguide.demo, version: v1, kind: WebApp, plural: webapps}"

CASES: list[Case] = [
    Case(
        "unknown-top-level-key",
        {
            "k.yaml": """\
apiVersion: orkestra.orkspace.io/v1
kind: Katalog
metdata:
  name: x
spec:
  crds: {}
"""
        },
        (
            'k.yaml:3:1: error: metdata: unknown key "metdata" in Katalog\n'
            "  expected: one of anchors, apiVersion, crossAccess, gateway, kind, lifecycle, metadata, notes, notification, policy, profiles, providers, publish, security, spec\n"
            '  hint: did you mean "metadata"?\n'
        ),
    ),
    Case(
        "missing-kind",
        {"k.yaml": "apiVersion: orkestra.orkspace.io/v1\nmetadata: {name: x}\n"},
        (
            'k.yaml:1:1: error: missing "kind"\n'
            "  expected: one of Katalog, Motif, Komposer, Simulate, E2E\n"
            "  hint: add kind: Katalog (or Motif, Komposer, Simulate, E2E)\n"
        ),
    ),
    Case(
        "unknown-kind",
        {"k.yaml": "apiVersion: orkestra.orkspace.io/v1\nkind: Katlog\n"},
        (
            'k.yaml:2:7: error: kind: "Katlog" is not an Orkestra pattern kind\n'
            "  expected: one of Katalog, Motif, Komposer, Simulate, E2E\n"
            '  hint: did you mean "Katalog"?\n'
        ),
    ),
    Case(
        "bad-api-version",
        {"k.yaml": katalog(API).replace("orkestra.orkspace.io/v1", "orkestra.orkspace.io/v2")},
        (
            'k.yaml:1:13: error: apiVersion: "orkestra.orkspace.io/v2" is not allowed\n'
            "  expected: one of orkestra.orkspace.io/v1, orkestra.konductor.io/v1Alpha\n"
            '  hint: did you mean "orkestra.orkspace.io/v1"?\n'
        ),
    ),
    Case(
        "missing-metadata-name",
        {"k.yaml": katalog(API).replace("  name: web-operator\n", "")},
        (
            'k.yaml:4:3: error: metadata: missing required key "name"\n'
            "  expected: a lowercase RFC 1123 name such as webapp-operator\n"
        ),
    ),
    Case(
        "uppercase-name",
        {"k.yaml": katalog(API).replace("web-operator", "WebOperator")},
        (
            'k.yaml:4:9: error: metadata.name: "WebOperator" is not valid\n'
            "  expected: a lowercase RFC 1123 name such as webapp-operator\n"
        ),
    ),
    Case(
        "missing-crds",
        {
            "k.yaml": "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\n"
            "metadata: {name: x}\nspec: {}\n"
        },
        ('k.yaml:4:7: error: spec: missing required key "crds"\n  expected: a mapping or a list\n'),
    ),
    Case(
        "crd-name-not-rfc1123",
        {"k.yaml": katalog(API).replace("    web:", "    Web_App:")},
        (
            'k.yaml:8:5: error: spec.crds.Web_App: key "Web_App" is not valid\n'
            "  expected: a lowercase RFC 1123 name: a-z, 0-9 and '-', starting and ending with a letter or digit, at most 63 characters\n"
        ),
    ),
    Case(
        "kind-not-camelcase",
        {"k.yaml": katalog(API.replace("WebApp", "webapp"))},
        (
            'k.yaml:9:58: error: spec.crds.web.apiTypes.kind: "webapp" is not valid\n'
            "  expected: a CamelCase kind such as WebApp\n"
        ),
    ),
    Case(
        "custom-kind-without-group",
        {"k.yaml": katalog("apiTypes: {kind: WebApp}")},
        (
            'k.yaml:9:17: error: spec.crds.web.apiTypes: missing "group" for custom kind WebApp\n'
            "  hint: only built-in Kubernetes kinds may omit group, version and plural (or give crdFile to infer them)\n"
            'k.yaml:9:17: error: spec.crds.web.apiTypes: missing "version" for custom kind WebApp\n'
            "  hint: only built-in Kubernetes kinds may omit group, version and plural (or give crdFile to infer them)\n"
            'k.yaml:9:17: error: spec.crds.web.apiTypes: missing "plural" for custom kind WebApp\n'
            "  hint: only built-in Kubernetes kinds may omit group, version and plural (or give crdFile to infer them)\n"
        ),
    ),
    Case(
        "no-apitypes-no-crdfile",
        {"k.yaml": katalog("description: nothing")},
        (
            'k.yaml:9:7: error: spec.crds.web: CRD "web" has neither apiTypes nor crdFile\n'
            "  expected: apiTypes: {group, version, kind, plural} or crdFile\n"
            "  hint: give apiTypes, or point crdFile at the CRD manifest\n"
        ),
    ),
    Case(
        "workers-out-of-range",
        {"k.yaml": katalog(f"{API}\noperatorBox:\n  reconciler:\n    workers: 100")},
        (
            "k.yaml:12:20: error: spec.crds.web.operatorBox.reconciler.workers: 100 is above the maximum 50\n"
            "  expected: at most 50\n"
        ),
    ),
    Case(
        "workers-wrong-type",
        {"k.yaml": katalog(f"{API}\noperatorBox:\n  reconciler:\n    workers: two")},
        (
            "k.yaml:12:20: error: spec.crds.web.operatorBox.reconciler.workers: expected an integer, got a string\n"
            "  expected: an integer\n"
        ),
    ),
    Case(
        "bad-duration",
        {"k.yaml": katalog(f"{API}\noperatorBox:\n  reconciler:\n    resync: 30 seconds")},
        (
            'k.yaml:12:19: error: spec.crds.web.operatorBox.reconciler.resync: "30 seconds" is not a duration\n'
            "  expected: a duration such as 30s, 5m, 1h30m, 7d\n"
        ),
    ),
    Case(
        "reconciler-typo",
        {"k.yaml": katalog(f"{API}\noperatorBox:\n  reconciler:\n    wrokers: 2")},
        (
            'k.yaml:12:11: error: spec.crds.web.operatorBox.reconciler.wrokers: unknown key "wrokers" in reconciler\n'
            "  expected: one of constructor, default, hooks, include, profile, queue, requeue, resync, workers\n"
            '  hint: did you mean "workers"?\n'
        ),
    ),
    Case(
        "deployment-without-image",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  onReconcile:\n    deployments:\n      - name: app"
            )
        },
        (
            'k.yaml:13:15: error: spec.crds.web.operatorBox.onReconcile.deployments[0]: deployment needs "image"\n'
            "  expected: a container image\n"
        ),
    ),
    Case(
        "replicas-not-a-number",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  onReconcile:\n    deployments:\n      - image: nginx\n"
                "        replicas: three"
            )
        },
        (
            'k.yaml:14:25: error: spec.crds.web.operatorBox.onReconcile.deployments[0].replicas: "three" is not a number\n'
            "  expected: an integer (or a template)\n"
        ),
    ),
    Case(
        "port-out-of-range",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  onReconcile:\n    services:\n      - port: 70000"
            )
        },
        (
            "k.yaml:13:21: error: spec.crds.web.operatorBox.onReconcile.services[0].port: 70000 is above the maximum 65535\n"
            "  expected: at most 65535\n"
        ),
    ),
    Case(
        "protocol-enum",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  onReconcile:\n    services:\n      - protocol: HTTP"
            )
        },
        (
            'k.yaml:13:25: error: spec.crds.web.operatorBox.onReconcile.services[0].protocol: "HTTP" is not allowed\n'
            "  expected: one of TCP, UDP, SCTP\n"
        ),
    ),
    Case(
        "service-type-did-you-mean",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  onReconcile:\n    services:\n      - type: ClusterIp"
            )
        },
        (
            'k.yaml:13:21: error: spec.crds.web.operatorBox.onReconcile.services[0].type: "ClusterIp" is not allowed\n'
            "  expected: one of ClusterIP, NodePort, LoadBalancer, ExternalName\n"
            '  hint: did you mean "ClusterIP"?\n'
        ),
    ),
    Case(
        "unknown-resource-kind",
        {"k.yaml": katalog(f"{API}\noperatorBox:\n  onReconcile:\n    deploymnets: []")},
        (
            'k.yaml:12:11: error: spec.crds.web.operatorBox.onReconcile.deploymnets: unknown key "deploymnets" in resource templates\n'
            "  expected: one of clusterRoleBindings, clusterRoles, configMaps, cronJobs, custom, deployments, hpa, ingresses, jobs, limitRanges, namespaces, networkPolicies, pdb, persistentVolumeClaims, persistentVolumes, pods, replicaSets, resourceQuotas, roleBindings, roles, secrets, serviceAccounts, services, statefulSets\n"
            '  hint: did you mean "deployments"?\n'
        ),
    ),
    Case(
        "condition-without-operator",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  onReconcile:\n    configMaps:\n      - when:\n"
                "          - field: spec.tier"
            )
        },
        (
            "k.yaml:14:19: error: spec.crds.web.operatorBox.onReconcile.configMaps[0].when[0]: the condition has no operator\n"
            "  expected: operator + value, a shorthand such as equals:/exists:, or time:/dayOfWeek:/cron:\n"
        ),
    ),
    Case(
        "condition-two-operators",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  onReconcile:\n    configMaps:\n      - when:\n"
                "          - {field: spec.tier, equals: a, prefix: b}"
            )
        },
        (
            "k.yaml:14:19: error: spec.crds.web.operatorBox.onReconcile.configMaps[0].when[0]: the condition has several operators (equals, prefix)\n"
            "  hint: split it into separate conditions\n"
        ),
    ),
    Case(
        "operator-without-value",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  onReconcile:\n    configMaps:\n      - when:\n"
                "          - {field: spec.tier, operator: gt}"
            )
        },
        (
            'k.yaml:14:19: error: spec.crds.web.operatorBox.onReconcile.configMaps[0].when[0]: operator gt needs "value"\n'
        ),
    ),
    Case(
        "operator-enum",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  onReconcile:\n    configMaps:\n      - when:\n"
                "          - {field: spec.tier, operator: greater, value: 1}"
            )
        },
        (
            'k.yaml:14:48: error: spec.crds.web.operatorBox.onReconcile.configMaps[0].when[0].operator: "greater" is not allowed\n'
            "  expected: one of equals, eq, notEquals, neq, contains, notContains, prefix, notPrefix, suffix, notSuffix, regex, exists, notExists, gt, lt, gte, lte, between, notBetween, in, notIn, unique, typeOf, typeMap, typeList, typeString, typeNumber, typeBool, typeNull\n"
            '  hint: did you mean "gte"?\n'
        ),
    ),
    Case(
        "invalid-cron",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  onReconcile:\n    configMaps:\n      - when:\n"
                "          - {cron: '0 25 * * *'}"
            )
        },
        (
            "k.yaml:14:26: error: spec.crds.web.operatorBox.onReconcile.configMaps[0].when[0].cron: invalid cron schedule: '25' is outside 0-23\n"
            "  expected: 5 fields: minute hour day-of-month month day-of-week\n"
        ),
    ),
    Case(
        "invalid-regex",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  onReconcile:\n    configMaps:\n      - when:\n"
                "          - {field: spec.tier, regex: '[a-'}"
            )
        },
        (
            "k.yaml:14:45: error: spec.crds.web.operatorBox.onReconcile.configMaps[0].when[0].regex: invalid regular expression '[a-': missing ]: [a-\n"
            "  hint: the syntax is RE2's, as in Go and Kubernetes: https://github.com/google/re2/wiki/Syntax\n"
        ),
    ),
    Case(
        "depends-on-unknown",
        {"k.yaml": katalog(f"{API}\ndependsOn: [dbs]")},
        (
            'k.yaml:10:18: error: spec.crds.web.dependsOn.dbs: depends on unknown CRD "dbs"\n'
            "  expected: one of web\n"
        ),
    ),
    Case(
        "depends-on-cycle",
        {
            "k.yaml": katalog(f"{API}\ndependsOn: {{db: healthy}}")
            + "    db:\n      apiTypes: {group: g.io, version: v1, kind: Db, "
            "plural: dbs}\n      dependsOn: [web]\n"
        },
        (
            "k.yaml:13:18: error: spec.crds.db.dependsOn.web: dependency cycle: web -> db -> web\n"
            "  hint: CRDs start in dependency order; remove one edge\n"
        ),
    ),
    Case(
        "depends-on-condition",
        {
            "k.yaml": katalog(f"{API}\ndependsOn: {{web2: ready}}")
            + "    web2:\n      apiTypes: {group: g.io, version: v1, "
            "kind: W, plural: ws}\n"
        },
        (
            'k.yaml:10:25: error: spec.crds.web.dependsOn.web2: "ready" is not allowed\n'
            "  expected: one of started, healthy\n"
        ),
    ),
    Case(
        "duplicate-yaml-key",
        {"k.yaml": katalog(f"{API}\ndescription: a\ndescription: b")},
        (
            'k.yaml:11:7: error: spec.crds.web.description: duplicate key "description"\n'
            "  hint: it is already set on line 10; YAML keys must be unique\n"
        ),
    ),
    Case(
        "invalid-yaml",
        {
            "k.yaml": "apiVersion: orkestra.orkspace.io/v1\nkind: Katalog\n"
            "metadata:\n  name: x\n   version: v1\n"
        },
        (
            "k.yaml:5:11: error: invalid YAML: mapping values are not allowed in this context\n"
            "  hint: check the indentation and quoting around this line\n"
        ),
    ),
    Case(
        "template-unclosed",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  onReconcile:\n    configMaps:\n"
                '      - name: "{{ .metadata.name "'
            )
        },
        (
            "k.yaml:13:21: error: spec.crds.web.operatorBox.onReconcile.configMaps[0].name: template does not parse: unclosed action (template column 19)\n"
            "  hint: an {{ if }}, {{ range }} or {{ with }} is missing its {{ end }}, or }} is missing\n"
        ),
    ),
    Case(
        "template-unknown-function",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  onReconcile:\n    configMaps:\n"
                '      - name: "{{ .metadata.name | toUpperr }}"'
            )
        },
        (
            'k.yaml:13:21: error: spec.crds.web.operatorBox.onReconcile.configMaps[0].name: template does not parse: function "toUpperr" not defined (template column 21)\n'
            '  hint: did you mean "toUpper"?\n'
        ),
    ),
    Case(
        "status-type-enum",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  status:\n    fields:\n      - {{path: ready, value: x, "
                "type: boolan}"
            )
        },
        (
            'k.yaml:13:45: error: spec.crds.web.operatorBox.status.fields[0].type: "boolan" is not allowed\n'
            '  expected: one of string, str, "", int, integer, float, bool, boolean, auto\n'
            '  hint: did you mean "boolean"?\n'
        ),
    ),
    Case(
        "mutation-default-and-override",
        {
            "k.yaml": katalog(
                f"{API}\nmutation:\n  rules:\n    - {{field: spec.replicas, default: 1, override: 2}}"
            )
        },
        (
            "k.yaml:12:13: error: spec.crds.web.mutation.rules[0]: a mutation rule needs exactly one of default or override\n"
        ),
    ),
    Case(
        "rotate-without-once",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  onCreate:\n    secrets:\n      - rotateAfter: 30d"
            )
        },
        (
            "k.yaml:13:28: error: spec.crds.web.operatorBox.onCreate.secrets[0].rotateAfter: rotateAfter needs once: true\n"
            "  hint: rotation applies to secrets generated once\n"
        ),
    ),
    Case(
        "headless-nodeport",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  onReconcile:\n    services:\n      - headless: true\n"
                "        type: NodePort"
            )
        },
        (
            "k.yaml:14:21: error: spec.crds.web.operatorBox.onReconcile.services[0].type: a headless service must be of type ClusterIP\n"
        ),
    ),
    Case(
        "default-false-no-constructor",
        {"k.yaml": katalog(f"{API}\noperatorBox:\n  reconciler:\n    default: false")},
        (
            "k.yaml:12:20: error: spec.crds.web.operatorBox.reconciler.default: default: false needs a constructor (the custom reconciler to run)\n"
        ),
    ),
    Case(
        "restricted-and-allowed",
        {"k.yaml": katalog(f"{API}\nrestrictedNamespaces: [a]\nallowedNamespaces: [b]")},
        (
            "k.yaml:11:7: error: spec.crds.web.allowedNamespaces: restrictedNamespaces and allowedNamespaces cannot both be set\n"
        ),
    ),
    Case(
        "g1-and-g2-status",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  status:\n    fields: []\n  emit:\n    status:\n"
                "      fields: []"
            )
        },
        (
            "k.yaml:12:11: error: spec.crds.web.operatorBox.status.fields: set twice in two layouts\n"
            "  hint: the same setting is also given at spec.crds.web.operatorBox.emit.status.fields; keep one\n"
        ),
    ),
    Case(
        "note-named-like-builtin",
        {"k.yaml": katalog(API, head="notes:\n  functions:\n    - {name: len, expression: x}\n")},
        (
            'k.yaml:5:14: error: notes.functions[0].name: "len" is a built-in template function\n'
            "  hint: pick another name for the note\n"
        ),
    ),
    Case(
        "deprecation-timeline-order",
        {
            "k.yaml": katalog(API).replace(
                "  version: v1.0.0\n",
                "  version: v1.0.0\n  deprecation:\n    message: old\n"
                "    timeline: {from: 2027-01-01, to: 2026-01-01}\n",
            )
        },
        (
            "k.yaml:8:15: error: metadata.deprecation.timeline: timeline.from must be before timeline.to\n"
        ),
    ),
    Case(
        "deprecation-bad-date",
        {
            "k.yaml": katalog(API).replace(
                "  version: v1.0.0\n",
                "  version: v1.0.0\n  deprecation:\n    message: old\n"
                "    timeline: {from: 2026-13-01}\n",
            )
        },
        (
            'k.yaml:8:22: error: metadata.deprecation.timeline.from: "2026-13-01" is not a valid date\n'
            "  expected: a calendar date YYYY-MM-DD\n"
        ),
    ),
    Case(
        "version-as-number",
        {"k.yaml": katalog(API).replace("v1.0.0", "1.0")},
        (
            "k.yaml:5:12: error: metadata.version: expected a string, got a number\n"
            "  expected: a string\n"
            "  hint: quote the value to make it a string\n"
        ),
    ),
    Case(
        "quoted-boolean",
        {"k.yaml": katalog(f"{API}\nnamespaced: 'true'")},
        (
            "k.yaml:10:19: error: spec.crds.web.namespaced: expected true or false, got a string\n"
            "  expected: true or false\n"
            '  hint: remove the quotes: true is a boolean, "true" a string\n'
        ),
    ),
    Case(
        "labels-wrong-type",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  onReconcile:\n    configMaps:\n      - labels: app"
            )
        },
        (
            "k.yaml:13:23: error: spec.crds.web.operatorBox.onReconcile.configMaps[0].labels: expected a mapping or a list, got a string\n"
            "  expected: a mapping or a list\n"
        ),
    ),
    Case(
        "foreach-reserved-name",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  onReconcile:\n    configMaps:\n      - forEach: "
                "{field: spec.regions, as: spec}"
            )
        },
        (
            'k.yaml:13:50: error: spec.crds.web.operatorBox.onReconcile.configMaps[0].forEach.as: "spec" is a reserved context key\n'
            "  hint: pick another name, such as region or shard\n"
        ),
    ),
    Case(
        "motif-missing-required-input",
        {
            "k.yaml": katalog(
                f"{API}\nimports:\n  - motif: ./motif.yaml\n    with: {{port: '80'}}"
            ),
            "motif.yaml": MOTIF,
        },
        (
            'k.yaml:11:11: error: spec.crds.web.imports[0]: motif web needs input "image"\n'
            "  expected: a value for image\n"
            "  hint: add image: under with:\n"
        ),
    ),
    Case(
        "motif-unknown-binding",
        {
            "k.yaml": katalog(
                f"{API}\nimports:\n  - motif: ./motif.yaml\n    with: {{image: nginx, prot: '80'}}"
            ),
            "motif.yaml": MOTIF,
        },
        (
            'k.yaml:12:32: error: spec.crds.web.imports[0].with.prot: motif web has no input "prot"\n'
            "  expected: one of image, port\n"
            '  hint: did you mean "port"?\n'
        ),
    ),
    Case(
        "motif-undeclared-input",
        {"m.yaml": MOTIF.replace(".inputs.port", ".inputs.ports")},
        (
            'm.yaml:15:13: error: resources.deployments[0].port: uses input "ports", which the motif does not declare\n'
            "  expected: one of image, port\n"
            '  hint: did you mean "port"?\n'
        ),
    ),
    Case(
        "motif-file-missing",
        {"k.yaml": katalog(f"{API}\nimports:\n  - motif: ./nope.yaml")},
        (
            'k.yaml:11:18: error: spec.crds.web.imports[0].motif: motif file "./nope.yaml" not found\n'
            "  expected: a motif.yaml\n"
            "  hint: paths are relative to k.yaml\n"
        ),
    ),
    Case(
        "motif-git-unsupported",
        {"k.yaml": katalog(f"{API}\nimports:\n  - motif: https://github.com/myorg/motifs@main")},
        (
            'k.yaml:11:18: error: spec.crds.web.imports[0].motif: cannot resolve motif "https://github.com/myorg/motifs@main": Git motif imports are not supported\n'
            "  hint: publish the motif with `ork push` and import its oci:// reference, or import it by a local path\n"
        ),
    ),
    Case(
        "motif-name-collision",
        {
            "k.yaml": katalog(
                f"{API}\nimports:\n  - motif: ./motif.yaml\n    with: {{image: x}}\n"
                "operatorBox:\n  onReconcile:\n    deployments:\n"
                '      - name: "{{ .metadata.name }}"\n        image: y'
            ),
            "motif.yaml": MOTIF,
        },
        (
            'k.yaml:11:11: error: spec.crds.web.imports[0]: deployments "{{ .metadata.name }}" from motif web (motif.yaml:13) clashes with the one at k.yaml:16\n'
            "  hint: rename one of them; a resource name must be unique per kind\n"
        ),
    ),
    Case(
        "komposer-unknown-override",
        {
            "komposer.yaml": "apiVersion: orkestra.orkspace.io/v1\nkind: Komposer\n"
            "metadata: {name: platform}\nimports:\n  files: [./k.yaml]\n"
            "spec:\n  crds:\n    wbe:\n      enabled: false\n",
            "k.yaml": katalog(API),
        },
        (
            'komposer.yaml:8:5: error: spec.crds.wbe: override for unknown CRD "wbe"\n'
            "  expected: one of web\n"
            '  hint: did you mean "web"?\n'
        ),
    ),
    Case(
        "komposer-duplicate-crd",
        {
            "komposer.yaml": "apiVersion: orkestra.orkspace.io/v1\nkind: Komposer\n"
            "metadata: {name: platform}\nimports:\n  files:\n    - ./k.yaml\n"
            "    - ./k2.yaml\n",
            "k.yaml": katalog(API),
            "k2.yaml": katalog(API),
        },
        (
            'komposer.yaml:7:7: error: imports.files[1]: CRD "web" from ./k2.yaml is also imported from ./k.yaml\n'
            "  hint: a CRD name must come from one import only; rename or disable one\n"
        ),
    ),
    Case(
        "komposer-imports-komposer",
        {
            "komposer.yaml": "apiVersion: orkestra.orkspace.io/v1\nkind: Komposer\n"
            "metadata: {name: platform}\nimports:\n  files: [./inner.yaml]\n",
            "inner.yaml": "apiVersion: orkestra.orkspace.io/v1\nkind: Komposer\n"
            "metadata: {name: inner}\n",
        },
        (
            'komposer.yaml:5:11: error: imports.files[0]: "./inner.yaml" is a Komposer; imports.files accepts only katalogs\n'
            "  hint: import its katalog files, or use a registry import with useKomposer: true\n"
        ),
    ),
    Case(
        "simulate-without-cr",
        {
            "simulate.yaml": "apiVersion: orkestra.orkspace.io/v1\n"
            "kind: Simulate\nspec:\n  katalog: ./k.yaml\n"
        },
        (
            "simulate.yaml:4:3: error: spec: spec.cr or spec.crFiles is required\n"
            "  hint: point cr at the CR manifest to reconcile\n"
        ),
    ),
    Case(
        "simulate-op-without-cycle",
        {
            "simulate.yaml": "apiVersion: orkestra.orkspace.io/v1\n"
            "kind: Simulate\nspec:\n  katalog: ./k.yaml\n"
            "  cr: ./cr.yaml\n  expect:\n    ops:\n"
            "      - {verb: create, resource: deployments}\n"
        },
        (
            'simulate.yaml:8:9: error: spec.expect.ops[0]: missing "cycle"\n'
            "  expected: the cycle number the op happens in (1 for the first reconcile)\n"
        ),
    ),
    Case(
        "simulate-verb-enum",
        {
            "simulate.yaml": "apiVersion: orkestra.orkspace.io/v1\n"
            "kind: Simulate\nspec:\n  katalog: ./k.yaml\n  cr: ./cr.yaml\n"
            "  expect:\n    ops:\n      - {cycle: 1, verb: created, "
            "resource: deployments}\n"
        },
        (
            'simulate.yaml:8:26: error: spec.expect.ops[0].verb: "created" is not allowed\n'
            "  expected: one of create, update, delete, patch, apply, get\n"
            '  hint: did you mean "create"?\n'
        ),
    ),
    Case(
        "e2e-after-enum",
        {
            "e2e.yaml": "apiVersion: orkestra.orkspace.io/v1\nkind: E2E\n"
            "spec:\n  expect:\n    - name: up\n      after: applied\n"
        },
        (
            'e2e.yaml:6:14: error: spec.expect[0].after: "applied" is not allowed\n'
            "  expected: one of cr-applied, cr-deleted\n"
            '  hint: did you mean "cr-applied"?\n'
        ),
    ),
    Case(
        "crdfile-group-mismatch",
        {
            "k.yaml": katalog(
                "apiTypes: {group: other.io, version: v1, kind: WebApp, plural: webapps}\n"
                "crdFile: ./crd.yaml"
            ),
            "crd.yaml": CRD,
        },
        (
            'k.yaml:9:25: error: spec.crds.web.apiTypes.group: group "other.io" does not match ./crd.yaml ("rkguide.demo")\n'
            "  hint: set apiTypes.group to rkguide.demo\n"
        ),
    ),
    Case(
        "crdfile-version-not-served",
        {
            "k.yaml": katalog(
                "apiTypes: {group: rkguide.demo, version: v2, kind: WebApp, plural: webapps}\n"
                "crdFile: ./crd.yaml"
            ),
            "crd.yaml": CRD,
        },
        (
            'k.yaml:9:48: error: spec.crds.web.apiTypes.version: version "v2" is not served by ./crd.yaml\n'
            "  expected: one of v1\n"
        ),
    ),
    Case(
        "watch-on-typo",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  observe:\n    watch:\n      - {{apiVersion: v1, kind: ConfigMap, on: [updated]}}"
            )
        },
        (
            'k.yaml:13:54: error: spec.crds.web.operatorBox.observe.watch[0].on[0]: "updated" is not allowed\n'
            "  expected: one of create, update, delete\n"
            '  hint: did you mean "update"?\n'
        ),
    ),
    Case(
        "watch-key-typo",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  observe:\n    watch:\n      - apiVersion: v1\n        kind: ConfigMap\n        keyfrom: {{label: owner}}"
            )
        },
        (
            'k.yaml:15:15: error: spec.crds.web.operatorBox.observe.watch[0].keyfrom: unknown key "keyfrom" in watch entry\n'
            "  expected: one of apiVersion, enqueueGate, index, keyFrom, kind, name, namespace, on\n"
            '  hint: did you mean "keyFrom"?\n'
        ),
    ),
    Case(
        "watch-keyfrom-both",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  watch:\n    - apiVersion: v1\n      kind: Secret\n      keyFrom: {{label: owner, name: web}}"
            )
        },
        (
            "k.yaml:14:22: error: spec.crds.web.operatorBox.watch[0].keyFrom: keyFrom takes exactly one of label or name\n"
            "  expected: {label: <label on the watched object>} or {name: <primary CR>, namespace: <its namespace>}\n"
        ),
    ),
    Case(
        "watch-repeated",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  observe:\n    watch:\n      - {{apiVersion: v1, kind: ConfigMap}}\n      - include: ./w.yaml"
            ),
            "w.yaml": "watch:\n  - {apiVersion: v1, kind: ConfigMap, on: [delete]}\n",
        },
        (
            "./w.yaml:2:5: error: watch[0]: ConfigMap (v1, all namespaces) is already watched at k.yaml:13\n"
            "  hint: one informer serves each kind and namespace: merge the two entries\n"
        ),
    ),
    Case(
        "watch-both-layouts",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  watch:\n    - {{apiVersion: v1, kind: ConfigMap}}\n  observe:\n    watch:\n      - {{apiVersion: v1, kind: Secret}}"
            )
        },
        (
            "k.yaml:11:9: error: spec.crds.web.operatorBox.watch: set twice in two layouts\n"
            "  hint: the same setting is also given at spec.crds.web.operatorBox.observe.watch; keep one\n"
        ),
    ),
    Case(
        "eventaware-on-enqueuegate",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  preReconcile:\n    enqueueGate: {{eventAware: true}}"
            )
        },
        (
            "k.yaml:12:25: error: spec.crds.web.operatorBox.preReconcile.enqueueGate.eventAware: eventAware is only valid on reconcileGate\n"
            "  hint: move it to preReconcile.reconcileGate: the enqueue gate already runs once per event\n"
        ),
    ),
    Case(
        "gate-sentinel-undeclared",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  preReconcile:\n    sentinels: [generationChanged]\n    reconcileGate:\n      eventAware: true\n      sentinels: [deletionStarted]"
            )
        },
        (
            'k.yaml:15:25: error: spec.crds.web.operatorBox.preReconcile.reconcileGate.sentinels[0]: sentinel "deletionStarted" is not declared in preReconcile.sentinels\n'
            "  expected: one of generationChanged\n"
            "  hint: add deletionStarted to preReconcile.sentinels: the informer computes only the sentinels declared there\n"
        ),
    ),
    Case(
        "cross-crd-and-labelselector",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  observe:\n    cross:\n      - crd: db\n        labelSelector: {{tier: data}}\n        selector: {{name: x}}"
            )
        },
        (
            "k.yaml:14:15: error: spec.crds.web.operatorBox.observe.cross[0].labelSelector: crd and labelSelector cannot both be set\n"
            "  hint: name the target CRD, or find it by its CRD-entry labels\n"
        ),
    ),
    Case(
        "cross-source-without-url",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  cross:\n    - crd: db\n      source: {{protocol: helth, cacheFor: 10s}}"
            )
        },
        (
            "k.yaml:13:21: error: spec.crds.web.operatorBox.cross[0].source: a cross source needs host or endpoint\n"
            "  expected: host: <base URL of the other Orkestra runtime> (with protocol), or endpoint: <full URL>\n"
            'k.yaml:13:32: error: spec.crds.web.operatorBox.cross[0].source.protocol: "helth" is not allowed\n'
            "  expected: one of cr, info, metrics, health, events\n"
            '  hint: did you mean "health"?\n'
        ),
    ),
    Case(
        "cross-auth-both",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  observe:\n    cross:\n      - crd: db\n        source:\n          host: http://db:8080\n          auth: {{token: $T, secretRef: {{name: s, key: k}}}}"
            )
        },
        (
            "k.yaml:16:23: error: spec.crds.web.operatorBox.observe.cross[0].source.auth: cross auth takes exactly one of token or secretRef\n"
            "  expected: token: $ENV_VAR, or secretRef: {name, namespace, key}\n"
        ),
    ),
    Case(
        "cross-as-twice",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  observe:\n    cross:\n      - {{crd: db, selector: {{name: a}}}}\n      - {{crd: cache, as: db, selector: {{name: b}}}}"
            )
        },
        (
            "k.yaml:14:15: error: spec.crds.web.operatorBox.observe.cross[1]: .cross.db is already read by cross[0]\n"
            '  hint: give one of them another "as"\n'
        ),
    ),
    Case(
        "queue-behaviour-unlimited",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  reconcile:\n    queue:\n      maxDepth: 0\n      behaviour: {{onLimit: drop}}"
            )
        },
        (
            "k.yaml:14:13: error: spec.crds.web.operatorBox.reconcile.queue.behaviour: queue.behaviour needs maxDepth > 0 in the same queue\n"
            "  hint: without maxDepth (or with 0) the queue is unlimited and has no limit to act on; set maxDepth: 500, for example\n"
        ),
    ),
    Case(
        "queue-onlimit-shorthand-typo",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  reconciler:\n    queue: {{maxDepth: 10, behaviour: {{onLimit: dorp}}}}"
            )
        },
        (
            'k.yaml:12:54: error: spec.crds.web.operatorBox.reconciler.queue.behaviour.onLimit: "dorp" is not allowed\n'
            "  expected: one of drop\n"
            '  hint: did you mean "drop"?\n'
        ),
    ),
    Case(
        "queue-onlimit-value",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  reconcile:\n    queue: {{maxDepth: 10, behaviour: {{onLimit: {{drop: true, value: 90}}, onThreshold: {{drop: true}}}}}}"
            )
        },
        (
            'k.yaml:12:67: error: spec.crds.web.operatorBox.reconcile.queue.behaviour.onLimit.value: unknown key "value" in onLimit\n'
            "  expected: one of drop, or, when\n"
            'k.yaml:12:92: error: spec.crds.web.operatorBox.reconcile.queue.behaviour.onThreshold: missing required key "value"\n'
            "  expected: Percent of maxDepth (1-100).\n"
        ),
    ),
    Case(
        "labels-templated-key",
        {
            "k.yaml": katalog(
                f'{API}\nlabels:\n  "{{{{ .spec.team }}}}": x\n  team: "{{{{ .spec.team }}}}"'
            )
        },
        (
            'k.yaml:11:9: error: spec.crds.web.labels["{{ .spec.team }}"]: key "{{ .spec.team }}" is not valid\n'
            "  expected: a static Kubernetes label key: [prefix/]name such as team or example.io/team\n"
        ),
    ),
    Case(
        "labels-invalid-value",
        {
            "k.yaml": katalog(
                f"{API}\nlabels: {{team: platform team}}\nannotations: {{note: platform team}}"
            )
        },
        (
            'k.yaml:10:22: error: spec.crds.web.labels.team: "platform team" is not a valid label value\n'
            "  expected: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (or empty)\n"
            "  hint: an annotation takes any text\n"
        ),
    ),
    Case(
        "labels-misspelt",
        {"k.yaml": katalog(f"{API}\nlables: {{team: platform}}")},
        (
            'k.yaml:10:7: error: spec.crds.web.lables: unknown key "lables" in CRD entry\n'
            "  expected: one of admission, allowedNamespaces, annotations, apiTypes, conversion, crFiles, crdFile, crossAccess, deletionProtection, dependsOn, description, enabled, endpoints, enrich, enrichAll, fieldSelector, idp, ignoreObservedGeneration, ignoreStatusPatch, imports, katalogDescription, katalogName, katalogVersion, labelSelector, ...\n"
            '  hint: did you mean "labels"?\n'
        ),
    ),
    Case(
        "reconcile-imports-not-found",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  reconcile:\n    imports:\n      - motif: ./nope.yaml"
            )
        },
        (
            'k.yaml:13:22: error: spec.crds.web.operatorBox.reconcile.imports[0].motif: motif file "./nope.yaml" not found\n'
            "  expected: a motif.yaml\n"
            "  hint: paths are relative to k.yaml\n"
        ),
    ),
    Case(
        "reconcile-imports-unknown-input",
        {
            "k.yaml": katalog(
                f"{API}\nimports:\n  - motif: ./motif.yaml\n    with: {{image: x}}\noperatorBox:\n  reconcile:\n    imports:\n      - motif: ./motif.yaml\n        with: {{image: y, prot: 80}}"
            ),
            "motif.yaml": MOTIF,
        },
        (
            'k.yaml:17:32: error: spec.crds.web.operatorBox.reconcile.imports[0].with.prot: motif web has no input "prot"\n'
            "  expected: one of image, port\n"
            '  hint: did you mean "port"?\n'
        ),
    ),
    Case(
        "reconcile-imports-clash",
        {
            "k.yaml": katalog(
                f"{API}\nimports:\n  - motif: ./motif.yaml\n    with: {{image: x}}\noperatorBox:\n  reconcile:\n    imports:\n      - motif: ./motif.yaml\n        with: {{image: y}}"
            ),
            "motif.yaml": MOTIF,
        },
        (
            'k.yaml:16:15: error: spec.crds.web.operatorBox.reconcile.imports[0]: deployments "{{ .metadata.name }}" from motif web (motif.yaml:13) clashes with the one at motif.yaml:13\n'
            "  hint: rename one of them; a resource name must be unique per kind\n"
        ),
    ),
    Case(
        "status-include-bad-field",
        {
            "k.yaml": katalog(
                f"{API}\noperatorBox:\n  emit:\n    status:\n      include: ./status.yaml\n      fields: [{{path: a, value: b}}]"
            ),
            "status.yaml": "fields:\n  - {path: phase, vale: Ready}\n",
        },
        (
            './status.yaml:2:19: error: fields[0].vale: unknown key "vale" in status field\n'
            "  expected: one of clearOnFalse, or, path, type, value, when\n"
            '  hint: did you mean "value"?\n'
        ),
    ),
    Case(
        "motif-status-include",
        {"m.yaml": MOTIF + "status:\n  include: ./status.yaml\n"},
        (
            'm.yaml:17:3: error: status.include: unknown key "include" in motif status\n'
            "  expected: one of conditions, fields\n"
        ),
    ),
    Case(
        "admission-webhooks-twice",
        {
            "k.yaml": katalog(
                f"{API}\nwebhooks: {{validation: true}}\nadmission:\n  webhooks: {{validation: false}}"
            )
        },
        (
            "k.yaml:12:9: error: spec.crds.web.admission.webhooks: set twice\n"
            "  hint: spec.crds.web.webhooks is set too; keep one of the two\n"
        ),
    ),
    Case(
        "admission-include-bad-rule",
        {
            "k.yaml": katalog(f"{API}\nadmission:\n  validation:\n    include: ./rules.yaml"),
            "rules.yaml": "rules:\n  - {field: spec.x, exists: true, mesage: m}\n",
        },
        (
            './rules.yaml:2:35: error: rules[0].mesage: unknown key "mesage" in validation rule\n'
            "  expected: one of action, between, contains, cron, dayOfWeek, duration, equals, exists, field, fires, greaterThan, greaterThanOrEqual, in, lessThan, lessThanOrEqual, max, message, min, negate, notBetween, notContains, notEquals, notExists, notIn, ...\n"
            '  hint: did you mean "message"?\n'
        ),
    ),
    Case(
        "admission-misspelt",
        {"k.yaml": katalog(f"{API}\nadmision:\n  validation: {{rules: []}}")},
        (
            'k.yaml:10:7: error: spec.crds.web.admision: unknown key "admision" in CRD entry\n'
            "  expected: one of admission, allowedNamespaces, annotations, apiTypes, conversion, crFiles, crdFile, crossAccess, deletionProtection, dependsOn, description, enabled, endpoints, enrich, enrichAll, fieldSelector, idp, ignoreObservedGeneration, ignoreStatusPatch, imports, katalogDescription, katalogName, katalogVersion, labelSelector, ...\n"
            '  hint: did you mean "admission"?\n'
        ),
    ),
]
