from orkestra.cli import console

console()
