"""Fail when a credential is committed: AWS keys, private keys, literal passwords.

``python scripts/secret_scan.py [ROOT]`` scans the files git tracks (plus new files
it does not ignore) and prints ``path:line: rule`` for each finding, with the
secret itself redacted; exit status 1 when there is any.

False positives (a test's throwaway password) are allowed in two ways, both
visible in review: a ``secret-scan: allow`` comment on the line itself, or a line
``<path glob> <rule or *> # why`` in scripts/secret_scan_allowlist.txt.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

INLINE_ALLOW = "secret-scan: allow"
ALLOWLIST = Path(__file__).with_name("secret_scan_allowlist.txt")
MAX_BYTES = 2_000_000

RULES: dict[str, re.Pattern[str]] = {
    "aws-access-key-id": re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    "aws-secret-access-key": re.compile(
        r"(?i)aws_?secret_?(?:access_?)?key[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"
    ),
    "private-key": re.compile(
        r"-----BEGIN (?:RSA |DSA |EC |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----"
    ),
    "github-token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "slack-token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),
    "password-assignment": re.compile(
        r"(?i)\b[a-z_]*(?:password|passwd|secret_key|api_key|private_key|client_secret)\b[\"']?"
        r"\s*[:=]\s*[\"']([^\"'\s]{8,})[\"']"
    ),
}
# Values that name where a secret comes from rather than being one.
_INDIRECT = re.compile(r"\$\{|\{\{|^<.*>$|os\.environ|getenv")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}"


@dataclass(frozen=True)
class Allowance:
    pattern: str
    rule: str

    def covers(self, finding: Finding) -> bool:
        rule_matches = self.rule in ("*", finding.rule)
        return rule_matches and fnmatch.fnmatchcase(finding.path, self.pattern)


def parse_allowlist(text: str) -> list[Allowance]:
    """``<glob> <rule|*>`` per line; ``#`` starts a comment (the reason)."""
    allowances = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2 or (parts[1] != "*" and parts[1] not in RULES):
            raise ValueError(f"allowlist line {number}: expected '<glob> <rule|*>': {raw!r}")
        allowances.append(Allowance(parts[0], parts[1]))
    return allowances


def scan_text(path: str, text: str) -> Iterator[Finding]:
    for number, line in enumerate(text.splitlines(), start=1):
        if INLINE_ALLOW in line:
            continue
        for rule, pattern in RULES.items():
            for match in pattern.finditer(line):
                value = match.group(match.lastindex or 0)
                if rule == "password-assignment" and _INDIRECT.search(value):
                    continue
                yield Finding(path, number, rule)
                break


def scan(root: Path, paths: Iterable[str], allowances: Sequence[Allowance]) -> list[Finding]:
    findings: list[Finding] = []
    for relative in sorted(paths):
        path = root / relative
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            continue
        data = path.read_bytes()
        if b"\x00" in data[:8192]:  # binary
            continue
        text = data.decode("utf-8", errors="replace")
        findings.extend(
            f for f in scan_text(relative, text) if not any(a.covers(f) for a in allowances)
        )
    return findings


def repository_files(root: Path) -> list[str]:
    """Tracked files and new files git does not ignore."""
    answer = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    )
    return sorted({name for name in answer.stdout.decode().split("\0") if name})


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    root = Path(args[0]) if args else Path.cwd()
    allowances = parse_allowlist(ALLOWLIST.read_text()) if ALLOWLIST.is_file() else []
    findings = scan(root, repository_files(root), allowances)
    for finding in findings:
        print(finding)
    if findings:
        print(f"secret scan: {len(findings)} finding(s); remove them or allow them with a reason")
        return 1
    print("secret scan: no secrets found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
