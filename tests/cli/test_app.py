"""The root group: collection held back during start-up by the console script."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import click
import pytest

from orkestra.cli.app import cli


@pytest.fixture
def collector() -> Iterator[None]:
    """Leave the collector as found: enabled, nothing frozen."""
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def test_a_command_turns_collection_on_with_the_start_up_heap_frozen(collector: None) -> None:
    gc.unfreeze()
    gc.disable()  # as the console script starts
    command = cli.get_command(click.Context(cli), "version")
    assert command is not None
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0


def test_in_process_callers_keep_their_collector_as_it_was(collector: None) -> None:
    gc.unfreeze()
    assert cli.get_command(click.Context(cli), "version") is not None
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
