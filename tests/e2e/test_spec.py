"""Reading e2e.yaml: the defaults of the format, setup and imports, and bad files reported
with file, line and YAML path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from orkestra.e2e.spec import (
    ClusterSpec,
    CommandCheck,
    Expectation,
    FieldCheck,
    HelmRelease,
    ResourceCheck,
    WaitCheck,
    load_suite,
)
from orkestra.model.errors import PatternError
from tests.conftest import WriteFiles

HEAD = "apiVersion: orkestra.orkspace.io/v1\nkind: E2E\n"
FILES = {
    "katalog.yaml": "x: 1\n",
    "cr.yaml": "x: 1\n",
    "crd.yaml": "x: 1\n",
    "setup.yaml": "x: 1\n",
    "values.yaml": "x: 1\n",
}


def e2e(body: str = "") -> str:
    """An E2E document: the header, then ``body`` (dedented)."""
    return HEAD + textwrap.dedent(body)


def failure(path: Path, display: str | None = None) -> str:
    with pytest.raises(PatternError) as caught:
        load_suite(path, display)
    return caught.value.render()


def test_defaults(write: WriteFiles) -> None:
    root = write(
        **FILES,
        **{
            "e2e.yaml": e2e("""\
        metadata: {name: web, description: The web app}
        spec:
          katalog: ./katalog.yaml
          cr: ./cr.yaml
          setup: [./setup.yaml]
          expect:
            - name: Created
              resources: [{kind: WebApp, name: my-webapp}]
            - name: Gone
              after: cr-deleted
              timeout: 2m
              resources: [{kind: Deployment, count: 0}]
              commands: [{run: "kubectl get webapps"}]
              kubectl:
                get:
                  - {kind: Deployment, name: d, field: .spec.replicas, equals: 2}
                  - {kind: Deployment, name: d, field: .spec.paused, equals: false}
                  - {kind: Service, name: s, namespace: web, field: .spec.type}
        """)
        },
    )
    suite = load_suite(root / "e2e.yaml", "e2e.yaml")
    assert (suite.name, suite.description, suite.display) == ("web", "The web app", "e2e.yaml")
    assert suite.katalog == root / "katalog.yaml" and suite.cr == root / "cr.yaml"
    assert suite.crds == [] and not suite.custom and suite.imports == []
    assert suite.cluster == ClusterSpec("kind", "ork-e2e", False)
    assert suite.apply == [root / "setup.yaml"]  # setup as a plain list means apply
    assert suite.helm == [] and suite.wait == [] and suite.values_files == []
    created, gone = suite.expect
    assert created == Expectation(
        name="Created",
        after="cr-applied",
        timeout=60.0,
        resources=(
            ResourceCheck(
                kind="WebApp", name="my-webapp", namespace="default", ready=False, count=None
            ),
        ),
    )
    assert created.resources[0].label == "WebApp my-webapp exists"
    assert (gone.after, gone.timeout, gone.checks) == ("cr-deleted", 120.0, 5)
    assert gone.resources == (
        ResourceCheck(kind="Deployment", name="", namespace="default", ready=False, count=0),
    )
    assert gone.resources[0].label == "Deployment (any) gone"
    assert gone.commands == (CommandCheck("kubectl get webapps", 0, ""),)
    assert gone.fields == (
        FieldCheck(
            kind="Deployment", name="d", namespace="default", field=".spec.replicas", equals="2"
        ),
        FieldCheck(
            kind="Deployment", name="d", namespace="default", field=".spec.paused", equals="false"
        ),
        FieldCheck(kind="Service", name="s", namespace="web", field=".spec.type", equals=None),
    )


def test_the_name_defaults_to_the_directory(write: WriteFiles) -> None:
    root = write(
        **{
            "webapp__katalog.yaml": "x: 1\n",
            "webapp__e2e.yaml": e2e("""\
        spec: {katalog: ./katalog.yaml}
        """),
        }
    )
    assert load_suite(root / "webapp" / "e2e.yaml").name == "webapp"


def test_setup_apply_helm_and_wait(write: WriteFiles) -> None:
    root = write(
        **FILES,
        **{
            "e2e.yaml": e2e("""\
        spec:
          katalog: ./katalog.yaml
          crd: ./crd.yaml
          cr: ./cr.yaml
          cluster: {provider: existing, name: mine, reuse: true}
          valuesFiles: [./values.yaml]
          setup:
            apply: [./setup.yaml]
            helm:
              - {chart: bitnami/redis}
              - chart: cnpg
                release: db
                namespace: data
                repo: https://cloudnative-pg.github.io/charts
                version: 0.20.0
                valueFiles: [./values.yaml]
                values: {replicas: 2, image: {tag: "16"}}
                createNamespace: true
            wait:
              - {kind: Deployment, name: redis}
              - {kind: Pod, name: db-0, namespace: data, timeout: 2m}
          expect: [{name: Created, resources: [{kind: WebApp}]}]
        """)
        },
    )
    suite = load_suite(root / "e2e.yaml")
    assert suite.crds == [root / "crd.yaml"]
    assert suite.cluster == ClusterSpec("existing", "mine", True)
    assert suite.values_files == [root / "values.yaml"]
    assert suite.apply == [root / "setup.yaml"]
    assert suite.helm == [
        HelmRelease(chart="bitnami/redis", release="redis"),
        HelmRelease(
            chart="cnpg",
            release="db",
            namespace="data",
            repo="https://cloudnative-pg.github.io/charts",
            version="0.20.0",
            value_files=(root / "values.yaml",),
            values={"replicas": 2, "image": {"tag": "16"}},
            create_namespace=True,
        ),
    ]
    assert suite.wait == [
        WaitCheck("Deployment", "redis", "default", 30.0),
        WaitCheck("Pod", "db-0", "data", 120.0),
    ]


@pytest.mark.parametrize("custom", ["customOperator: true", "custom: {target: kubernetes}"])
def test_a_custom_operator_needs_no_katalog(write: WriteFiles, custom: str) -> None:
    root = write(
        **FILES,
        **{
            "e2e.yaml": e2e(f"""\
        spec:
          {custom}
          cr: ./cr.yaml
          expect: [{{name: Created, resources: [{{kind: Redis}}]}}]
        """)
        },
    )
    suite = load_suite(root / "e2e.yaml")
    assert suite.custom and suite.katalog is None and suite.cr == root / "cr.yaml"


def test_imports_as_strings_and_maps(write: WriteFiles) -> None:
    suite_file = e2e("""\
        metadata: {name: NAME}
        spec: {katalog: ./katalog.yaml}
        """)
    root = write(
        **{
            "a__katalog.yaml": "x: 1\n",
            "b__katalog.yaml": "x: 1\n",
            "a__e2e.yaml": suite_file.replace("NAME", "a"),
            "b__e2e.yaml": suite_file.replace("NAME", "b"),
            "all.yaml": e2e("""\
            metadata: {name: all}
            imports:
              - ./a/e2e.yaml
              - {path: ./b/e2e.yaml, wait: 5s, freshCluster: true}
            """),
        }
    )
    suite = load_suite(root / "all.yaml", "all.yaml")
    assert suite.name == "all" and suite.expect == [] and suite.katalog is None
    first, second = suite.imports
    assert (first.suite.name, first.suite.display, first.wait, first.fresh_cluster) == (
        "a",
        "a/e2e.yaml",
        0.0,
        False,
    )
    assert (second.suite.name, second.suite.display, second.wait, second.fresh_cluster) == (
        "b",
        "b/e2e.yaml",
        5.0,
        True,
    )
    assert second.suite.katalog == root / "b" / "katalog.yaml"


def test_an_import_cycle_is_an_error(write: WriteFiles) -> None:
    root = write(
        **{
            "one.yaml": HEAD + "imports: [./two.yaml]\n",
            "two.yaml": HEAD + "imports: [{path: ./one.yaml}]\n",
            "self.yaml": HEAD + "imports: [./self.yaml]\n",
        }
    )
    assert failure(root / "one.yaml", "one.yaml") == "one.yaml: error: e2e imports form a cycle"
    assert "e2e imports form a cycle" in failure(root / "self.yaml")


def test_a_missing_import_names_file_line_and_entry(write: WriteFiles) -> None:
    root = write(
        **{
            "all.yaml": e2e("""\
        imports:
          - ./gone/e2e.yaml
        """)
        }
    )
    assert failure(root / "all.yaml", "all.yaml").startswith(
        'all.yaml:4:5: error: imports[0]: "./gone/e2e.yaml" does not exist'
    )


def test_problems_in_an_imported_file_name_that_file(write: WriteFiles) -> None:
    root = write(
        **{
            "all.yaml": HEAD + "imports: [./sub/e2e.yaml]\n",
            "sub__e2e.yaml": e2e("""\
            spec:
              katalog: ./katalog.yaml
            """),
        }
    )
    assert failure(root / "all.yaml", "all.yaml").startswith(
        'sub/e2e.yaml:4:12: error: spec.katalog: file "./katalog.yaml" does not exist'
    )


# Each bad file, and lines its rendered error must contain.
BAD = {
    "unknown key": (
        """\
        spec:
          katalog: ./katalog.yaml
          cr: ./cr.yaml
          expect:
            - name: Created
              resourcse: [{kind: WebApp}]
        """,
        [
            'e2e.yaml:8:7: error: spec.expect[0].resourcse: unknown key "resourcse" in expectation',
            '  hint: did you mean "resources"?',
        ],
    ),
    "bad duration": (
        """\
        spec:
          katalog: ./katalog.yaml
          cr: ./cr.yaml
          expect:
            - name: Created
              timeout: 5 minutes
        """,
        ['e2e.yaml:8:16: error: spec.expect[0].timeout: "5 minutes" is not a duration'],
    ),
    "templated expectation timeout": (
        """\
        spec:
          katalog: ./katalog.yaml
          cr: ./cr.yaml
          expect:
            - name: Created
              timeout: "{{ .spec.wait }}"
        """,
        [
            'e2e.yaml:8:16: error: spec.expect[0].timeout: "{{ .spec.wait }}" is not a duration',
            "  expected: a duration such as 30s, 5m, 1h30m",
            "  hint: templates are not rendered in an e2e file: write the duration itself",
        ],
    ),
    "templated wait timeout": (
        """\
        spec:
          katalog: ./katalog.yaml
          setup:
            wait: [{kind: Deployment, name: db, timeout: "{{ .t }}"}]
        """,
        ['e2e.yaml:6:50: error: spec.setup.wait[0].timeout: "{{ .t }}" is not a duration'],
    ),
    "missing setup file": (
        """\
        spec:
          katalog: ./katalog.yaml
          setup:
            apply: [./setup.yaml, ./nope.yaml]
        """,
        [
            'e2e.yaml:6:27: error: spec.setup.apply[1]: file "./nope.yaml" does not exist',
            "  hint: paths are relative to e2e.yaml's directory",
        ],
    ),
    "missing setup file, list form": (
        """\
        spec:
          katalog: ./katalog.yaml
          setup: [./nope.yaml]
        """,
        ['e2e.yaml:5:11: error: spec.setup[0]: file "./nope.yaml" does not exist'],
    ),
    "missing cr file": (
        """\
        spec:
          katalog: ./katalog.yaml
          cr: ./other-cr.yaml
        """,
        ['e2e.yaml:5:7: error: spec.cr: file "./other-cr.yaml" does not exist'],
    ),
    "duplicate expectation": (
        """\
        spec:
          katalog: ./katalog.yaml
          cr: ./cr.yaml
          expect:
            - name: Created
            - name: Created
        """,
        ['e2e.yaml:8:13: error: spec.expect[1].name: expectation "Created" is named twice'],
    ),
    "cr-created": (
        """\
        spec:
          katalog: ./katalog.yaml
          cr: ./cr.yaml
          expect:
            - name: Created
              after: cr-created
        """,
        [
            'e2e.yaml:8:14: error: spec.expect[0].after: "cr-created" is not allowed',
            "  expected: one of cr-applied, cr-deleted",
        ],
    ),
    "missing katalog": (
        """\
        spec:
          cr: ./cr.yaml
          custom: {target: docker}
        """,
        [
            'e2e.yaml:4:3: error: spec: missing "katalog"',
            "  hint: or set customOperator: true for an operator you deploy yourself",
        ],
    ),
    "expectations without cr": (
        """\
        spec:
          katalog: ./katalog.yaml
          expect: [{name: Created, resources: [{kind: WebApp}]}]
        """,
        ['e2e.yaml:4:3: error: spec: missing "cr"'],
    ),
    "helm without chart": (
        """\
        spec:
          katalog: ./katalog.yaml
          setup:
            helm: [{release: db}]
        """,
        ["e2e.yaml:6:12: error: spec.setup.helm[0]: a helm entry needs a chart"],
    ),
    "no spec": (
        """\
        metadata: {name: empty}
        """,
        ['e2e.yaml:1:1: error: missing "spec"'],
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_files_name_file_line_and_path(write: WriteFiles, case: str) -> None:
    body, wanted = BAD[case]
    root = write(**FILES, **{"e2e.yaml": e2e(body)})
    rendered = failure(root / "e2e.yaml", "e2e.yaml")
    for line in wanted:
        assert line in rendered.splitlines(), rendered


def test_every_problem_of_a_file_is_reported_at_once(write: WriteFiles) -> None:
    root = write(
        **FILES,
        **{
            "e2e.yaml": e2e("""\
        spec:
          katalog: ./nope-katalog.yaml
          cr: ./nope-cr.yaml
          setup: {apply: [./nope-setup.yaml]}
        """)
        },
    )
    rendered = failure(root / "e2e.yaml", "e2e.yaml")
    assert [line.split(": error")[0] for line in rendered.splitlines() if ": error:" in line] == [
        "e2e.yaml:4:12",
        "e2e.yaml:5:7",
        "e2e.yaml:6:19",
    ]
    assert rendered.endswith("\n3 errors")


def test_the_display_defaults_to_the_path(write: WriteFiles) -> None:
    root = write(**{"e2e.yaml": HEAD + "spec: {cr: ./cr.yaml}\n"})
    rendered = failure(root / "e2e.yaml")
    assert rendered.startswith(f"{root / 'e2e.yaml'}:3:7: error: ")


def test_a_simulate_file_is_not_an_e2e_file(write: WriteFiles, pack_copy: Path) -> None:
    api = pack_copy / "02-katalog-api"
    rendered = failure(api / "simulate.yaml", "simulate.yaml")
    assert rendered.splitlines()[:2] == [
        "simulate.yaml:4:7: error: kind: a Simulate is not expected here",
        "  expected: one of E2E",
    ]


def test_the_pack_suites_load(pack_copy: Path) -> None:
    suite = load_suite(pack_copy / "02-katalog-api" / "e2e.yaml")
    assert suite.name == "webapp-e2e" and suite.cluster.name == "ork-e2e-webapp"
    assert [(e.name, e.after, e.timeout) for e in suite.expect] == [
        ("WebApp created", "cr-applied", 30.0),
        ("Deployment ready", "cr-applied", 120.0),
        ("Service routes to the pods", "cr-applied", 30.0),
        ("WebApp reports Ready", "cr-applied", 60.0),
        ("Cleanup", "cr-deleted", 60.0),
    ]


def test_a_templated_import_wait_names_file_line_and_entry(write: WriteFiles) -> None:
    root = write(
        **{
            "b__katalog.yaml": "x: 1\n",
            "b__e2e.yaml": e2e("""\
            metadata: {name: b}
            spec: {katalog: ./katalog.yaml}
            """),
            "all.yaml": e2e("""\
            imports:
              - {path: ./b/e2e.yaml, wait: "{{ .w }}"}
            """),
        }
    )
    assert failure(root / "all.yaml", "all.yaml").startswith(
        'all.yaml:4:32: error: imports[0].wait: "{{ .w }}" is not a duration'
    )
