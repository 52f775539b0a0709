"""RE2 for every user regular expression: Go's semantics, linear time, clear errors for what
RE2 does not have.

The expected answers were produced by Go's ``regexp`` (``MatchString``/``ReplaceAllString``);
``test_same_as_go`` re-checks them against the Go toolchain when one is installed."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from orkestra.regex import RegexError, compile_regex
from orkestra.template import TemplateError, render

# (pattern, text, replacement, Go's MatchString, Go's ReplaceAllString)
GO_CASES: list[tuple[str, str, str, bool, str]] = [
    ("a*", "baaac", "X", True, "XbXcX"),
    ("a", "banana", "<$0>", True, "b<a>n<a>n<a>"),
    ("(a)(n)", "banana", "$2$1", True, "bnanaa"),
    ("(?P<x>a)n", "banana", "${x}N", True, "baNaNa"),
    ("(a)n", "banana", "$1x", True, "ba"),
    ("(a)n", "banana", "${1}x", True, "baxaxa"),
    ("(a)", "banana", "$$1", True, "b$1n$1n$1"),
    ("(a)", "banana", "$", True, "b$n$n$"),
    ("(a)", "banana", "${1", True, "b${1n${1n${1"),
    ("(a)", "banana", "$9", True, "bnn"),
    ("(a)", "banana", "$01", True, "bnn"),
    ("x*", "héllo", "-", True, "-h-é-l-l-o-"),
    ("^", "abc", "-", True, "-abc"),
    ("$", "abc\n", "-", True, "abc\n-"),
    ("a$", "a\n", "-", False, "a\n"),
    ("\\bo", "foo obo", "0", True, "foo 0bo"),
    ("(?i)HEL", "hello", "J", True, "Jlo"),
    ("é+", "ééé a é", "e", True, "e a e"),
    ("(a|ab)(c|bcd)(d*)", "abcd", "[$1|$2|$3]", True, "[a|bcd|]"),
    ("a\\z", "ba", "!", True, "b!"),
    ("\\pL+", "héllo wörld 12", "W", True, "W W 12"),
    ("a.b", "a\nb", "_", False, "a\nb"),
    ("(?m)^b", "a\nb\nb", "B", True, "a\nB\nB"),
    ("(a)|(b)", "ab", "[$1$2]", True, "[a][b]"),
    ("(?U)a+", "aaa", "x", True, "xxx"),
    ("\\Qa.b\\E", "a.b axb", "L", True, "L axb"),
    ("(?P<n>a)(?P<m>b)?", "ac", "${m}|${n}|$n|$m", True, "|a|a|c"),
    ("a|", "xax", "-", True, "-x-x-"),
    ("(.)", "日本", "$1$1", True, "日日本本"),
    ("(z)", "zz", "$1é", True, ""),
]


@pytest.mark.parametrize(("pattern", "text", "repl", "match", "replaced"), GO_CASES)
def test_go_semantics(pattern: str, text: str, repl: str, match: bool, replaced: str) -> None:
    regex = compile_regex(pattern)
    assert regex.search(text) is match
    assert regex.replace_all(text, repl) == replaced


def test_named_groups_both_spellings() -> None:
    assert (
        render(
            '{{ regexReplaceAll "(?<w>[a-z]+)-(?P<n>\\\\d+)" .s "${n}_$w" }}', {"s": "abc-12 de-3"}
        )
        == "12_abc 3_de"
    )


_GO_PROGRAM = """package main

import ("bufio"; "encoding/json"; "os"; "regexp")

func main() {
	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var r [3]string
		json.Unmarshal(in.Bytes(), &r)
		re := regexp.MustCompile(r[0])
		out.Encode([]interface{}{re.MatchString(r[1]), re.ReplaceAllString(r[1], r[2])})
	}
}
"""


@pytest.mark.integration
def test_same_as_go(tmp_path: Path) -> None:
    go = shutil.which("go")
    if go is None:
        pytest.skip("no Go toolchain")
    (tmp_path / "main.go").write_text(_GO_PROGRAM)
    build = subprocess.run(
        [go, "build", "-o", str(tmp_path / "re"), "main.go"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "GO111MODULE": "off",
            "GOCACHE": str(tmp_path / "cache"),
        },
        check=False,
    )
    if build.returncode:
        pytest.skip(f"cannot build the Go reference: {build.stderr[:200]}")
    requests = "".join(json.dumps([p, t, r]) + "\n" for p, t, r, _, _ in GO_CASES)
    answers = subprocess.run(
        [str(tmp_path / "re")], input=requests, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert [json.loads(a) for a in answers] == [[m, r] for _, _, _, m, r in GO_CASES]


@pytest.mark.parametrize(
    ("pattern", "construct"),
    [
        ("(a)\\1", "backreferences"),
        ("(?=a)b", "lookahead"),
        ("(?!a)b", "lookahead"),
        ("(?<=a)b", "lookbehind"),
        ("(?<!a)b", "lookbehind"),
        ("(?P<x>a)(?P=x)", "backreferences"),
        ("a++", "possessive quantifiers"),
        ("(?>a)", "atomic groups"),
    ],
)
def test_what_re2_lacks_is_named(pattern: str, construct: str) -> None:
    with pytest.raises(RegexError) as info:
        compile_regex(pattern)
    assert repr(pattern) in info.value.message
    assert f"has no {construct}" in info.value.message
    assert "re2/wiki/Syntax" in info.value.hint


def test_go_only_syntax_errors() -> None:
    with pytest.raises(RegexError, match="write \\\\z for the end"):
        compile_regex("a\\Z")
    with pytest.raises(RegexError, match="Go has no \\\\C"):
        compile_regex("a\\C")
    assert compile_regex("\\Qa\\Cb\\E").search("a\\Cb")
    with pytest.raises(RegexError, match="invalid repetition size"):
        compile_regex("x{1001}")


def test_template_errors_name_the_expression() -> None:
    with pytest.raises(TemplateError) as info:
        render('{{ regexMatch "(a)\\\\1" "aa" }}', {})
    assert "error calling regexMatch: invalid regular expression '(a)\\\\1'" in str(info.value)
    assert "has no backreferences" in str(info.value)


def test_catastrophic_backtracking_is_linear() -> None:
    subject = "a" * 50_000 + "!"
    start = time.perf_counter()
    assert render('{{ regexMatch "^(a+)+$" .s }}', {"s": subject}) == "false"
    assert render('{{ regexMatch "(x+x+)+y" .s }}', {"s": "x" * 50_000}) == "false"
    assert render('{{ regexReplaceAll "(a|aa)+$" .s "-" }}', {"s": subject}) == subject
    assert time.perf_counter() - start < 5
