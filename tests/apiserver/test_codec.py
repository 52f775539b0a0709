"""Encoding answers: a stored object is encoded once for a write's answer and its watch
events, byte for byte what encoding it again would give."""

from __future__ import annotations

from orkestra.apiserver import codec


def test_a_stored_object_is_encoded_once() -> None:
    stored = {"kind": "ConfigMap", "metadata": {"name": "a", "labels": {"x": "é"}}, "data": {}}
    first = codec.stored_json(stored)
    assert first == codec.dumps(stored)
    assert codec.stored_json(stored) is first
    twin = {**stored}
    assert codec.stored_json(twin) == first
    assert codec.stored_json(twin) is not first  # another object: encoded on its own


def test_an_answer_with_a_stored_object_is_json_with_its_status() -> None:
    response = codec.respond_stored({"kind": "ConfigMap"}, 201)
    assert (response.status, response.body) == (201, b'{"kind":"ConfigMap"}')
    assert response.headers["Content-Type"] == codec.JSON
