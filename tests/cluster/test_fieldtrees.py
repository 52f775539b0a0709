"""FieldsV1 trees and entries as every write rewrites them: ``subtract`` answers the very
tree it was given when nothing goes (and otherwise what removing member by member gives, in
the same order), and an entry no write changed is written back as the stored item."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from orkestra.cluster import MemoryCluster
from orkestra.cluster.fieldmanager import FieldTree, decode_entries, subtract
from orkestra.cluster.fieldmanager.entries import Entry
from orkestra.cluster.fieldmanager.trees import MEMBER, build, is_owned
from orkestra.kubeobjects import Json

ELEMENTS = st.sampled_from([".", "f:a", "f:b", "f:c", 'k:{"name":"x"}', 'v:"y"'])
TREES: st.SearchStrategy[FieldTree] = st.recursive(
    st.just({}),
    lambda inner: st.dictionaries(ELEMENTS, inner, max_size=4).map(
        lambda tree: {k: ({} if k == MEMBER else v) for k, v in tree.items()}
    ),
    max_leaves=20,
)


def member_by_member(tree: FieldTree, other: FieldTree) -> FieldTree | None:
    """Subtraction rebuilding every node: what the shortcuts must equal."""
    member = is_owned(tree) and not is_owned(other)
    children: FieldTree = {}
    for key, child in tree.items():
        if key == MEMBER:
            continue
        against = other.get(key)
        rest = child if against is None else member_by_member(child, against)
        if rest is not None:
            children[key] = rest
    return build(member, children)


@settings(max_examples=500, deadline=None)
@given(TREES, TREES)
def test_subtract_is_member_by_member_removal(tree: FieldTree, other: FieldTree) -> None:
    expected = member_by_member(tree, other)
    got = subtract(tree, other)
    assert json.dumps(got) == json.dumps(expected)  # the same members in the same order
    untouched = not (other.keys() - {MEMBER}) & tree.keys() and not is_owned(other)
    if untouched and json.dumps(got) == json.dumps(tree):
        assert got is tree, "an untouched tree is shared, not copied"


def test_untouched_entries_are_written_back_as_stored() -> None:
    cluster = MemoryCluster(record=False, track_fields=True)
    deployments = cluster.type_for("apps/v1", "Deployment")
    made = cluster.create_in(
        deployments,
        "default",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}},
        },
        manager="creator",
    )
    status: dict[str, Json] = {"replicas": 1}
    written = cluster.replace_in(
        deployments,
        "default",
        "web",
        {**made, "status": status},
        subresource="status",
        manager="controller",
    )
    entries = {e["manager"]: e for e in written["metadata"]["managedFields"]}
    creator, controller = entries["creator"], entries["controller"]
    assert creator is made["metadata"]["managedFields"][0]
    fresh = Entry(*decode_entries([creator])[0][:6]).encode()
    assert fresh == creator and list(fresh) == list(creator)
    assert controller["manager"] == "controller" and controller["subresource"] == "status"
