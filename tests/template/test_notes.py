"""The Orkestra-specific notes (Sprig-shared ones are covered against real Go by the
differential suite)."""

from __future__ import annotations

import base64
import datetime

import pytest

from orkestra.template import render
from orkestra.template.notes import time as time_notes

CHILDREN = {
    "deployment": {
        "metadata": {"generation": 2},
        "spec": {
            "replicas": 3,
            "template": {
                "spec": {
                    "containers": [
                        {
                            "image": "nginx:1.25",
                            "ports": [{"containerPort": 8080}],
                            "env": [{"name": "MODE", "value": "prod"}],
                        }
                    ]
                }
            },
        },
        "status": {
            "readyReplicas": 3,
            "updatedReplicas": 3,
            "availableReplicas": 3,
            "observedGeneration": 2,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}
            ],
        },
    },
    "notready": {"spec": {"replicas": 2}, "status": {"readyReplicas": 1}},
    "job": {"status": {"succeeded": 1}},
    "service": {
        "spec": {"clusterIP": "10.0.0.7", "ports": [{"nodePort": 30080}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}},
    },
}
DATA = {
    "children": CHILDREN,
    "spec": {
        "s": "Hello World",
        "items": [1, 2, 3],
        "m": {"b": 2, "a": 1},
        "created": "2026-11-01T00:00:00Z",
    },
    "metadata": {"name": "demo"},
}


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    moment = datetime.datetime(2026, 11, 21, 10, 30, tzinfo=datetime.UTC)  # a Saturday
    monkeypatch.setattr(time_notes, "clock", lambda: moment)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ allReplicasReady .children.deployment }}", "true"),
        ("{{ replicasReady .children.notready }}", "false"),
        ("{{ allReplicasReady .children.missing }}", "false"),
        ("{{ rolloutComplete .children.deployment }}", "true"),
        ("{{ readyReplicas .children.notready }}/{{ desiredReplicas .children.notready }}", "1/2"),
        ('{{ hasCondition .children.deployment "Available" }}', "true"),
        ('{{ hasCondition .children.deployment "Available" "False" }}', "false"),
        ('{{ conditionReason .children.deployment "Available" }}', "MinimumReplicasAvailable"),
        ("{{ isSynced .children.deployment }} {{ resourceExists .children.nope }}", "true false"),
        ("{{ jobSucceeded .children.job }} {{ jobFailed .children.job }}", "true false"),
        (
            "{{ containerImage .children.deployment }} {{ containerPort .children.deployment }}",
            "nginx:1.25 8080",
        ),
        ('{{ containerEnv .children.deployment "MODE" }}', "prod"),
        (
            "{{ serviceClusterIP .children.service }} {{ serviceNodePort .children.service }} "
            "{{ serviceLoadBalancerIP .children.service }}",
            "10.0.0.7 30080 1.2.3.4",
        ),
        ('{{ get .children.deployment "status" "readyReplicas" }}', "3"),
        ('{{ get .children.deployment "status.readyReplicas" }}', "3"),
        (
            '{{ get .children.deployment "spec" "template" "spec" "containers" 0 "image" }}',
            "nginx:1.25",
        ),
        ('{{ getOr .children.notready "status.availableReplicas" 0 }}', "0"),
        ('{{ getIntOr .children.deployment "spec.replicas" 9 }}', "3"),
        ('{{ ternary true 1 2 }} {{ ternary "" 1 2 }} {{ ternary .spec.items 1 2 }}', "1 2 1"),
        ('{{ boolTernary "true" "on" "off" }} {{ eqTernary .spec.s "Hello World" 1 2 }}', "on 1"),
        ('{{ default "d" "<no value>" }}', "d"),
        ("{{ notEmpty .spec.items }} {{ empty .spec.nothing }}", "true true"),
        (
            '{{ toLower .spec.s }} {{ toUpper "ß-x" }} {{ camelToKebab "myAppName" }}',
            "hello world ß-X my-app-name",
        ),
        ('{{ split "," "a,b,,c" }} {{ truncate 5 .spec.s }}', "[a b  c] Hello"),
        ("{{ clamp 15 1 10 }} {{ clamp -3 0 10 }} {{ abs -4 }}", "10 0 4"),
        (
            '{{ toInt "42" }} {{ toInt 3.9 }} {{ toFloat "1.5" }} {{ toBool "true" }}',
            "42 3 1.5 true",
        ),
        (
            "{{ typeOf .spec.m }} {{ typeOf .spec.items }} {{ typeOf .spec.s }} {{ typeOf 1 }} "
            "{{ typeOf .spec.nothing }}",
            "map list string number null",
        ),
        ("{{ isScalar 1 }} {{ isComposite .spec.m }} {{ typeMap .spec.m }}", "true true true"),
        ('{{ asList "x" }} {{ asList .spec.items }} {{ asMap "x" }}', "[x] [1 2 3] map[]"),
        ('{{ toBase64 "hi" }} {{ fromBase64 "aGk=" }}', "aGk= hi"),
        ('{{ toJSON .spec.m }} {{ fromJSON "[1,2]" }}', '{"a":1,"b":2} [1 2]'),
        ('{{ slugify "Hello, World!" }}', "hello-world"),
        ('{{ truncateName "short" }} {{ truncateName "a-very-long-name" 10 | len }}', "short 10"),
        (
            '{{ mapKeys .spec.m }} {{ mapValues .spec.m }} {{ mapGet .spec.m "zz" "dflt" }}',
            "[a b] [1 2] dflt",
        ),
        ('{{ mapPick .spec.m "a" }} {{ mapOmit .spec.m "a" }}', "map[a:1] map[b:2]"),
        (
            '{{ listHas .spec.items 2 }} {{ listGet .spec.items 9 "none" }} '
            "{{ listLen .spec.items }}",
            "true none 3",
        ),
        (
            '{{ semverCompare "^1.2" "v1.4.0" }} {{ semverMajor "v2.3.4" }} {{ semverValid "x" }}',
            "true 2 false",
        ),
        ('{{ semverGreater "1.10.0" "1.9.9" }}', "true"),
        (
            '{{ cidrContains "10.0.0.0/8" "10.1.2.3" }} {{ ipValid "300.1.1.1" }} '
            '{{ ipIsPrivate "192.168.1.1" }}',
            "true false true",
        ),
        ("{{ now }}", "2026-11-21T10:30:00Z"),
        ("{{ timeSince .spec.created }} {{ timeAgo .spec.created }}", "1765800 20d"),
        ('{{ isExpired .spec.created "7d" }} {{ isExpired .spec.created "30d" }}', "true false"),
        (
            '{{ durationSeconds "1h30m" }} {{ durationAdd .spec.created "1d" }} '
            '{{ durationValid "2w" }} {{ durationValid "soon" }}',
            "5400 2026-11-02T00:00:00Z true false",
        ),
        (
            '{{ weekday }} {{ timeInWindow "09:00" "18:00" }} {{ timeInWindow "22:00" "06:00" }}',
            "Saturday true false",
        ),
        ('{{ timeFormat "2006-01-02 15:04 Mon" .spec.created }}', "2026-11-01 00:00 Sun"),
    ],
)
def test_note(template: str, expected: str) -> None:
    assert render(template, DATA) == expected


def test_random_notes_have_the_requested_shape() -> None:
    alnum = render("{{ randomAlphanumeric 24 }}", DATA)
    assert len(alnum) == 24 and alnum.isalnum()
    hexed = render("{{ randomHex 9 }}", DATA)
    assert len(hexed) == 9 and int(hexed, 16) >= 0
    assert len(base64.b64decode(render("{{ randomBase64 12 }}", DATA))) == 12
    assert render("{{ randomHex 8 }}", DATA) != render("{{ randomHex 8 }}", DATA)


@pytest.mark.parametrize(
    "template",
    [
        '{{ fromBase64 "%%%" }}',
        '{{ boolTernary "maybe" 1 2 }}',
        "{{ randomHex -1 }}",
        '{{ toBool "yes please" }}',
        '{{ semverMajor "not-a-version" }}',
        '{{ fromJSON "{" }}',
    ],
)
def test_bad_arguments_are_template_errors(template: str) -> None:
    from orkestra.template import TemplateExecError

    with pytest.raises(TemplateExecError):
        render(template, DATA)


def test_kube_notes_read_a_null_or_a_list_on_their_path_as_missing() -> None:
    children = {
        "nulls": {"spec": None, "status": {"readyReplicas": None}},
        "listed": {"spec": {"replicas": "2"}, "status": [{"readyReplicas": 2}]},
    }
    text = (
        "{{ desiredReplicas .children.nulls }} {{ readyReplicas .children.nulls }} "
        "{{ readyReplicas .children.listed }} {{ allReplicasReady .children.listed }}"
    )
    assert render(text, {"children": children}) == "1 0 0 false"
