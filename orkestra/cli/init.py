"""``ork init --pack NAME``: write an example pack to disk."""

from __future__ import annotations

from pathlib import Path

import click

from orkestra.cli.output import emit, ok, out, progress
from orkestra.cli.params import format_option
from orkestra.packs import PACKS, find_pack, write_pack


@click.command("init")
@click.option("--pack", "pack_name", help="The pack to write (see --list).")
@click.option("--list", "list_packs", is_flag=True, help="List the available packs.")
@click.option(
    "-d",
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    help="Where to write it (default: ./PACK).",
)
@click.option("--force", is_flag=True, help="Replace the directory if it exists.")
@format_option()
def command(
    pack_name: str | None, list_packs: bool, directory: str | None, force: bool, output: str
) -> int:
    """Write an example pack, e.g. `ork init --pack registry-guide`."""
    if list_packs:
        if output != "text":
            emit(
                output,
                [{"name": p.name, "description": p.description, "first": p.first} for p in PACKS],
            )
        for pack in PACKS if output == "text" else ():
            out(f"{pack.name} — {pack.description} (start with: {pack.name}/{pack.first})")
        return 0
    if not pack_name:
        raise click.UsageError("name a pack with --pack (or list them with --list)")
    pack = find_pack(pack_name)
    target = Path(directory or pack.name)
    written = write_pack(pack.name, target, force=force)
    if output != "text":
        emit(output, {"pack": pack.name, "directory": str(target), "files": written})
        return 0
    ok(f"wrote {len(written)} files to {target}/")
    progress(f"  next: cd {target}/{pack.first} && cat README.md")
    return 0
