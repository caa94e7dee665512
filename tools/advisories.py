"""The vendored advisory snapshot: known vulnerabilities of the packages pinned in uv.lock.

`security/advisories/pypi.json` holds the advisories of the Python Packaging Advisory Database
(https://github.com/pypa/advisory-database, OSV format, CC-BY-4.0) for every package in `uv.lock`, and
the list of packages it was made for. `make audit` reads only this file. Refresh it with

    python -m tools.advisories refresh --from PATH      # a checkout (or git directory) of the database
    python -m tools.advisories refresh --from-url URL   # a zip of it, e.g. GitHub's archive of main

This module also answers the question an OSV service answers: which advisories affect one version of
one package (`affecting`).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import tomllib
import urllib.request
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "security" / "advisories" / "pypi.json"
LOCK = ROOT / "uv.lock"
DATABASE_REPOSITORY = "https://github.com/pypa/advisory-database"
DATABASE_ARCHIVE_URL = f"{DATABASE_REPOSITORY}/archive/refs/heads/main.zip"
ECOSYSTEM = "PyPI"

Advisory = dict[str, Any]


@dataclass(frozen=True)
class Snapshot:
    """The advisories of the packages the snapshot was made for, by normalised package name."""

    source: dict[str, str]
    packages: dict[str, list[Advisory]]

    def covers(self, name: str) -> bool:
        return canonicalize_name(name) in self.packages

    def affecting(self, name: str, version: str) -> list[Advisory]:
        """The advisories, withdrawn ones left out, that say this version of this package is affected."""
        package = canonicalize_name(name)
        return [
            advisory
            for advisory in self.packages.get(package, [])
            if "withdrawn" not in advisory and affects(advisory, package, version)
        ]


def load(path: Path = SNAPSHOT) -> Snapshot:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Snapshot(source=data["source"], packages=data["packages"])


# --- Which versions an advisory affects (https://ossf.github.io/osv-schema/#evaluation) ---


def _parse(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None


def affects(advisory: Advisory, package: str, version: str) -> bool:
    """Whether `version` of `package` (a normalised name) is affected by the advisory.

    It is if the version is in an `affected` entry's explicit `versions` list, or inside one of its
    ECOSYSTEM ranges: from an `introduced` event up to (not including) the next `fixed`, up to and
    including a `last_affected`, and never at or past a `limit`. Versions are compared as PEP 440
    versions, so pre-releases come before their release (2.0rc1 < 2.0).
    """
    parsed = _parse(version)
    for affected in advisory.get("affected", []):
        named = affected.get("package", {})
        if named.get("ecosystem") != ECOSYSTEM or canonicalize_name(named.get("name", "")) != package:
            continue
        if _listed(version, parsed, affected.get("versions", [])):
            return True
        if parsed is not None and any(
            _in_range(parsed, r.get("events", []))
            for r in affected.get("ranges", [])
            if r["type"] == "ECOSYSTEM"
        ):
            return True
    return False


def _listed(version: str, parsed: Version | None, versions: Iterable[str]) -> bool:
    for listed in versions:
        if listed == version:
            return True
        listed_parsed = _parse(listed)
        if parsed is not None and listed_parsed is not None and listed_parsed == parsed:
            return True
    return False


def _event_key(event: dict[str, str]) -> tuple[int, Version]:
    ((kind, value),) = event.items()
    if kind == "introduced" and value == "0":
        return (0, Version("0"))
    parsed = _parse(value)
    return (1, parsed if parsed is not None else Version("0"))


def _in_range(version: Version, events: list[dict[str, str]]) -> bool:
    usable = [event for event in events if len(event) == 1 and _usable(event)]
    if any(
        "limit" in event and event["limit"] != "*" and version >= Version(event["limit"]) for event in usable
    ):
        return False
    affected = False
    for event in sorted(usable, key=_event_key):
        ((kind, value),) = event.items()
        if kind == "introduced" and (value == "0" or Version(value) <= version):
            affected = True
        elif _ends_before(kind, value, version):
            affected = False
    return affected


def _ends_before(kind: str, value: str, version: Version) -> bool:
    """Whether an event ends the affected range before ``version``: fixed in it or before, or last
    affected before it."""
    if kind == "fixed":
        return Version(value) <= version
    return kind == "last_affected" and Version(value) < version


def _usable(event: dict[str, str]) -> bool:
    ((kind, value),) = event.items()
    if kind not in {"introduced", "fixed", "last_affected", "limit"}:
        return False
    return (
        (kind == "introduced" and value == "0")
        or (kind == "limit" and value == "*")
        or _parse(value) is not None
    )


# --- Refreshing the snapshot ---


def locked_packages(lock: Path = LOCK) -> list[str]:
    """Every package uv.lock pins (the workspace's own members included), normalised and sorted."""
    with lock.open("rb") as file:
        data = tomllib.load(file)
    return sorted({canonicalize_name(package["name"]) for package in data.get("package", [])})


def _records_from_directory(root: Path) -> Iterator[str]:
    for path in sorted((root / "vulns").glob("*/*.yaml")):
        yield path.read_text(encoding="utf-8")


def _records_from_git(git_dir: Path) -> Iterator[str]:
    listing = subprocess.run(
        ["git", f"--git-dir={git_dir}", "ls-tree", "-r", "--name-only", "HEAD", "vulns/"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    paths = [path for path in listing if path.endswith(".yaml")]
    blobs = subprocess.run(
        ["git", f"--git-dir={git_dir}", "cat-file", "--batch"],
        input="".join(f"HEAD:{path}\n" for path in paths).encode(),
        check=True,
        capture_output=True,
    ).stdout
    offset = 0
    for _ in paths:
        header_end = blobs.index(b"\n", offset)
        size = int(blobs[offset:header_end].split()[2])
        yield blobs[header_end + 1 : header_end + 1 + size].decode("utf-8")
        offset = header_end + 1 + size + 1


def _git_dir(path: Path) -> Path | None:
    for candidate in (path / ".git", path):
        if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
            return candidate
    return None


def _git_source(git_dir: Path) -> dict[str, str]:
    commit, date = subprocess.run(
        ["git", f"--git-dir={git_dir}", "log", "-1", "--format=%H %cI", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return {"repository": DATABASE_REPOSITORY, "commit": commit, "date": date}


def _from_path(path: Path) -> tuple[dict[str, str], Iterator[str]]:
    git_dir = _git_dir(path)
    if (path / "vulns").is_dir():
        source = _git_source(git_dir) if git_dir else {"repository": DATABASE_REPOSITORY, "commit": "unknown"}
        return source, _records_from_directory(path)
    if git_dir is None:
        raise SystemExit(f"{path} is neither a checkout nor a git directory of the advisory database")
    return _git_source(git_dir), _records_from_git(git_dir)


def _from_url(url: str) -> tuple[dict[str, str], Iterator[str]]:
    with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 (a URL the maintainer gives)
        archive = zipfile.ZipFile(io.BytesIO(response.read()))
    # GitHub writes the commit an archive was made from as the zip file's comment.
    comment = archive.comment.decode("ascii", "replace").strip()
    commit = comment if re.fullmatch(r"[0-9a-f]{40}", comment) else "unknown"
    source = {
        "repository": DATABASE_REPOSITORY,
        "commit": commit,
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") + " (downloaded)",
        "url": url,
    }
    names = sorted(name for name in archive.namelist() if re.search(r"/vulns/[^/]+/[^/]+\.yaml$", name))
    return source, (archive.read(name).decode("utf-8") for name in names)


def build(source: dict[str, str], records: Iterable[str], packages: Iterable[str]) -> dict[str, Any]:
    """The snapshot's content: each package's advisories (whole OSV records), sorted by id."""
    wanted: dict[str, list[Advisory]] = {canonicalize_name(name): [] for name in packages}
    for text in records:
        advisory = yaml.safe_load(text)
        named = {
            canonicalize_name(affected["package"]["name"])
            for affected in advisory.get("affected", [])
            if affected.get("package", {}).get("ecosystem") == ECOSYSTEM
        }
        for package in sorted(named & wanted.keys()):
            wanted[package].append(advisory)
    for advisories in wanted.values():
        advisories.sort(key=lambda advisory: advisory["id"])
    return {
        "source": source,
        "licence": "CC-BY-4.0 (https://creativecommons.org/licenses/by/4.0/), the Python Packaging Advisory "
        "Database's contributors; see security/advisories/NOTICE.md",
        "packages": dict(sorted(wanted.items())),
    }


def write(content: dict[str, Any], path: Path = SNAPSHOT) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(content, indent=1, sort_keys=False, ensure_ascii=False, default=str)
    path.write_text(text + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.advisories", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    refresh = commands.add_parser(
        "refresh", help="rebuild security/advisories/pypi.json for uv.lock's packages"
    )
    origin = refresh.add_mutually_exclusive_group(required=True)
    origin.add_argument("--from", dest="path", type=Path, help="a checkout or git directory of the database")
    origin.add_argument("--from-url", dest="url", nargs="?", const=DATABASE_ARCHIVE_URL, help="a zip of it")
    arguments = parser.parse_args(argv)

    source, records = _from_path(arguments.path) if arguments.path else _from_url(arguments.url)
    content = build(source, records, locked_packages())
    write(content)
    count = sum(len(advisories) for advisories in content["packages"].values())
    print(
        f"{SNAPSHOT.relative_to(ROOT)}: {count} advisories for {len(content['packages'])} packages "
        f"(commit {source['commit']}, {source.get('date', 'date unknown')})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
