"""The JSON Schemas (draft 2020-12) of what commands print with ``-o json`` (and ``-o
yaml``, the same document), published by ``ork schema --result NAME``.

They are contracts: a field is added, never renamed or removed, and a test checks every
command's real output against its schema, failures included. ``error`` is what any command
prints when it fails before it has a result of its own.
"""

from __future__ import annotations

from orkestra.kubeobjects import JsonDict, JsonObject

_DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _object(properties: JsonObject, *, optional: tuple[str, ...] = ()) -> JsonDict:
    """A closed object: every property required unless named in ``optional``."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": [name for name in properties if name not in optional],
    }


_STRING, _INTEGER, _BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
_NUMBER = {"type": "number"}
_OPTIONAL_STRING = {"type": ["string", "null"]}


def _array(items: JsonObject) -> JsonDict:
    return {"type": "array", "items": items}


_ERROR = _object(
    {
        "message": _STRING,
        "hint": _OPTIONAL_STRING,
        "kind": {
            **_STRING,
            "description": "The error class, e.g. ArtifactNotFoundError; "
            "UsageError for a wrong command line.",
        },
        "exitCode": {**_INTEGER, "minimum": 1},
    }
)

_PASSED_OF = _object({"passed": {**_INTEGER, "minimum": 0}, "total": {**_INTEGER, "minimum": 0}})

_RUN = _object(
    {
        "crd": _STRING,
        "cr": _STRING,
        "namespace": _OPTIONAL_STRING,
        "steadyAt": {"type": ["integer", "null"]},
        "milliseconds": _NUMBER,
        "notes": {
            **_array(_STRING),
            "description": "What simulate left out of this run, and why "
            "(say, a cross-namespace copy).",
        },
        "notExercised": {
            **_array(_STRING),
            "description": "What the CRD declares that simulate "
            "cannot exercise (watches, gates, queue "
            "behaviour).",
        },
        "passed": {
            **_BOOLEAN,
            "description": "No check failed and no cycle failed to reconcile "
            "(unless the expect block says noErrors: false).",
        },
        "assertions": _PASSED_OF,
        "cycles": _array(
            _object(
                {
                    "cycle": _INTEGER,
                    "error": _OPTIONAL_STRING,
                    "warnings": _array(_STRING),
                    "events": _array(
                        _object({"type": _STRING, "reason": _STRING, "message": _STRING})
                    ),
                    "ops": _array(
                        _object(
                            {
                                "verb": _STRING,
                                "resource": _STRING,
                                "name": _STRING,
                                "namespace": _OPTIONAL_STRING,
                            }
                        )
                    ),
                }
            )
        ),
        "checks": _array(_object({"passed": _BOOLEAN, "line": _STRING, "counted": _BOOLEAN})),
    }
)

_STATUS = {"enum": ["passed", "no-assertion", "failed"]}

_OUTCOME_FIELDS: JsonDict = {
    "file": _STRING,
    "status": _STATUS,
    "passed": _BOOLEAN,
    "assertions": {**_INTEGER, "description": "Assertions the file declares."},
    "milliseconds": _NUMBER,
    "runs": _array({"$ref": "#/$defs/run"}),
}

_TOTALS = _object(
    {
        "files": _INTEGER,
        "passed": _INTEGER,
        "noAssertion": _INTEGER,
        "failed": _INTEGER,
        "notRun": {**_INTEGER, "description": "Files that could not run (their error is given)."},
        "crs": _INTEGER,
        "assertions": _PASSED_OF,
        "reconcileErrors": _INTEGER,
        "ok": {**_BOOLEAN, "description": "Files were found, and none failed or could not run."},
    }
)

RESULTS: dict[str, tuple[str, JsonDict]] = {
    "error": (
        "Any command, -o json|yaml, when it fails without a result of its own.",
        _object({"error": _ERROR}),
    ),
    "simulate": (
        "ork simulate [-f FILE] -o json: one file's simulation.",
        {**_object(_OUTCOME_FIELDS), "$defs": {"run": _RUN}},
    ),
    "simulate-tree": (
        "ork simulate DIR/... -o json: every simulate.yaml below DIR.",
        {
            **_object(
                {
                    "files": _array(
                        _object(
                            {**_OUTCOME_FIELDS, "error": _OPTIONAL_STRING},
                            optional=tuple(_OUTCOME_FIELDS)[1:],
                        )
                    ),
                    "passed": _BOOLEAN,
                    "totals": _TOTALS,
                }
            ),
            "$defs": {"run": _RUN},
        },
    ),
}
"""name -> (what prints it, schema)."""


def result_schema(name: str) -> JsonDict:
    """The published schema of result ``name`` (a key of :data:`RESULTS`)."""
    description, schema = RESULTS[name]
    return {"$schema": _DRAFT, "title": f"ork {name} result", "description": description, **schema}
