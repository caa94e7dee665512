"""`make assets`: the front-end files the services serve themselves, pinned, each beside its licence.

Councils' networks often block CDNs, and `make run` needs only Python and make, so every script and
stylesheet a Steadfast page loads is committed to the repository, taken from a pinned npm package:

- swagger-ui-dist and redoc, for every service's ``/docs`` and ``/redoc``
  (``shared/steadfast_shared/http/static/vendor/``, served at ``/_assets/vendor/``);
- govuk-frontend and chart.js, for the metrics dashboard
  (``services/metrics/steadfast_metrics/dashboard/static/vendor/``, served at ``/static/vendor/``).
  GOV.UK Frontend's Sass is compiled here, by dart-sass, without the GOV.UK brand: no GDS Transport
  font (licensed only for GOV.UK services) and no crest or favicons (see ``GOVUK_SCSS``);
- axe-core, for the browser accessibility tests (``tests/browser/vendor/``).

Each destination holds one folder per package (its files and its licence texts) and ``MANIFEST.json``:
each package's name, version, tarball URL and npm integrity, licence, and every file's sha256, which
``tests/shared/test_offline_assets.py`` checks the committed files against.

Only this script needs Node.js, npm and the registry (`npm pack` for each package; sass is installed
into the temporary folder). To upgrade, change a version in ``PACKAGES`` (or ``SASS_VERSION``) and run
`make assets`; the files are replaced only when every package was built and checked.

    python -m tools.vendor_assets          # download, build, check, write
    python -m tools.vendor_assets --check  # the committed files match their manifests (no network)
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: dart-sass, from npm, used only here to compile GOV.UK Frontend's Sass.
SASS_VERSION = "1.108.2"

SHARED_VENDOR = "shared/steadfast_shared/http/static/vendor"
DASHBOARD_VENDOR = "services/metrics/steadfast_metrics/dashboard/static/vendor"
BROWSER_TESTS_VENDOR = "tests/browser/vendor"

MANIFEST = "MANIFEST.json"

#: GOV.UK Frontend without the GOV.UK brand. The GDS Transport typeface may be used only by GOV.UK
#: services, so the styles name Arial (GOV.UK's own fallback) and declare no @font-face; the crest and
#: the GOV.UK favicons are not shipped. The one image the styles name, the footer's crest (of
#: ``.govuk-footer__copyright-logo``, which a council's page does not use), becomes an empty image,
#: and any other image or font a later version names stops the build, to be decided on.
GOVUK_SCSS = """\
@function steadfast-image-url($filename) {
  @if $filename == "govuk-crest.svg" {
    @return url("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E");
  }
  @error "govuk-frontend names the image #{$filename}, which Steadfast does not ship";
}

@function steadfast-font-url($filename) {
  @error "govuk-frontend names the font #{$filename}, which Steadfast does not ship";
}

$govuk-font-family: arial, sans-serif;
$govuk-include-default-font-face: false;
$govuk-image-url-function: "steadfast-image-url";
$govuk-font-url-function: "steadfast-font-url";

@import "govuk-frontend/dist/govuk/index";
"""


@dataclass(frozen=True)
class Package:
    """One npm package, pinned, and what of it the project serves."""

    name: str
    version: str
    #: The licence (SPDX) its package.json must declare: an upgrade that changes it stops the script.
    licence: str
    #: The folder, from the repository root, holding ``<name>/`` and ``MANIFEST.json``.
    destination: str
    #: Files shipped as they are: path in the package -> name in ``<destination>/<name>/``.
    files: Mapping[str, str]
    #: Licence and notice texts in the package, shipped beside the files under their own names.
    licence_files: tuple[str, ...] = ()
    #: For a package whose tarball has no licence file: the text kept in this repository (a path from
    #: the root) and where it was copied from. Shipped as ``LICENSE.txt``.
    licence_text: tuple[str, str] | None = None
    #: Stylesheets compiled from the package's Sass: name shipped -> the Sass source.
    stylesheets: Mapping[str, str] = field(default_factory=dict)

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def tarball_url(self) -> str:
        """The package's tarball on the public registry (``npm pack`` checks it against its integrity)."""
        base = self.name.rsplit("/", 1)[-1]
        return f"https://registry.npmjs.org/{self.name}/-/{base}-{self.version}.tgz"


PACKAGES: tuple[Package, ...] = (
    Package(
        name="govuk-frontend",
        version="5.14.0",
        licence="MIT",
        destination=DASHBOARD_VENDOR,
        files={"dist/govuk/govuk-frontend.min.js": "govuk-frontend.min.js"},
        licence_text=(
            "tools/licences/govuk-frontend-LICENSE.txt",
            "https://github.com/alphagov/govuk-frontend/blob/main/LICENSE.txt",
        ),
        stylesheets={"govuk-frontend.min.css": GOVUK_SCSS},
    ),
    Package(
        name="chart.js",
        version="4.6.1",
        licence="MIT",
        destination=DASHBOARD_VENDOR,
        files={"dist/chart.umd.min.js": "chart.umd.min.js"},
        licence_files=("LICENSE.md",),
    ),
    Package(
        name="swagger-ui-dist",
        version="5.35.0",
        licence="Apache-2.0",
        destination=SHARED_VENDOR,
        files={
            "swagger-ui-bundle.js": "swagger-ui-bundle.js",
            "swagger-ui.css": "swagger-ui.css",
            "favicon-32x32.png": "favicon-32x32.png",
        },
        licence_files=("LICENSE", "NOTICE", "swagger-ui-bundle.js.LICENSE.txt"),
    ),
    Package(
        name="redoc",
        version="2.5.4",
        licence="MIT",
        destination=SHARED_VENDOR,
        files={"bundles/redoc.standalone.js": "redoc.standalone.js"},
        licence_files=("LICENSE", "bundles/redoc.standalone.js.LICENSE.txt"),
    ),
    Package(
        name="axe-core",
        version="4.14.1",
        licence="MPL-2.0",
        destination=BROWSER_TESTS_VENDOR,
        files={"axe.min.js": "axe.min.js"},
        licence_files=("LICENSE", "LICENSE-3RD-PARTY.txt"),
    ),
)


class VendorError(Exception):
    """A package could not be fetched, built or checked: nothing was written."""


@dataclass
class Built:
    """A package's files as they will be written (name in its folder -> content) and its manifest entry."""

    package: Package
    files: dict[str, bytes]
    sources: dict[str, str]
    integrity: str
    homepage: str | None = None
    built_with: dict[str, str] = field(default_factory=dict)

    def manifest_entry(self) -> dict[str, Any]:
        package = self.package
        entry: dict[str, Any] = {
            "name": package.name,
            "version": package.version,
            "licence": package.licence,
            "source": package.tarball_url,
            "integrity": self.integrity,
        }
        if self.homepage:
            entry["homepage"] = self.homepage
        if self.built_with:
            entry["built_with"] = dict(self.built_with)
        entry["licence_files"] = [f"{package.name}/{name}" for name in licence_names(package)]
        entry["files"] = [
            {
                "path": f"{package.name}/{name}",
                "from": self.sources[name],
                "sha256": sha256(content),
                "bytes": len(content),
            }
            for name, content in sorted(self.files.items())
        ]
        return entry


# ---- pure parts (tests/tools/test_vendor_assets.py)


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def licence_names(package: Package) -> list[str]:
    """The names of a package's licence files in its folder."""
    names = [PurePosixPath(path).name for path in package.licence_files]
    if package.licence_text is not None:
        names.append("LICENSE.txt")
    return names


def declared_licence(meta: Mapping[str, Any]) -> str | None:
    """The licence a package.json declares (``license``: a string or ``{"type": ...}``)."""
    value = meta.get("license")
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("type"), str):
        return str(value["type"])
    return None


def tarball_files(content: bytes) -> dict[str, bytes]:
    """Every regular file of an npm tarball, by its path in the package (the top folder left off)."""
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as archive:
        for member in archive.getmembers():
            if not member.isfile():
                continue
            parts = PurePosixPath(member.name).parts[1:]
            if not parts or ".." in parts:
                continue
            extracted = archive.extractfile(member)
            if extracted is not None:
                files["/".join(parts)] = extracted.read()
    return files


_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)""", re.IGNORECASE)


def css_urls(css: str) -> list[str]:
    """Every ``url(...)`` a stylesheet names, unquoted."""
    return [next(g for g in match.groups() if g is not None) for match in _URL.finditer(css)]


def unresolved_urls(css: str, stylesheet: str, shipped: Iterable[str]) -> list[str]:
    """The ``url(...)`` of a stylesheet (at path ``stylesheet`` among the ``shipped`` paths) that are
    neither ``data:`` URIs nor relative references to a shipped file: another host, an absolute path,
    or a file left out."""
    available = set(shipped)
    base = posixpath.dirname(stylesheet)
    missing: list[str] = []
    for url in css_urls(css):
        if url.lower().startswith("data:"):
            continue
        reference = url.split("#", 1)[0].split("?", 1)[0]
        if not reference or re.match(r"^[a-z][a-z0-9+.-]*:", reference, re.IGNORECASE) or reference[0] == "/":
            missing.append(url)
            continue
        resolved = posixpath.normpath(posixpath.join(base, reference))
        if resolved not in available:
            missing.append(url)
    return missing


def stylesheet_problems(css: str, stylesheet: str, shipped: Iterable[str]) -> list[str]:
    """Why a compiled GOV.UK stylesheet may not be shipped (none: an empty list)."""
    problems = [
        f"{stylesheet}: url({url}) names no shipped file" for url in unresolved_urls(css, stylesheet, shipped)
    ]
    if "gds transport" in css.lower():
        problems.append(f"{stylesheet}: names the GDS Transport typeface (licensed only for GOV.UK)")
    if "@font-face" in css.lower():
        problems.append(f"{stylesheet}: declares a @font-face")
    return problems


def destinations(packages: Iterable[Package] = PACKAGES) -> dict[str, list[Package]]:
    found: dict[str, list[Package]] = {}
    for package in packages:
        found.setdefault(package.destination, []).append(package)
    return found


def manifest(built: Iterable[Built]) -> dict[str, Any]:
    return {
        "about": (
            "Front-end files vendored by `make assets` (tools/vendor_assets.py), not to be edited by hand: "
            "tests/shared/test_offline_assets.py checks every file against its sha256 here."
        ),
        "packages": [b.manifest_entry() for b in sorted(built, key=lambda b: b.package.name)],
    }


def check(root: Path = ROOT, packages: Iterable[Package] = PACKAGES) -> list[str]:
    """What differs between the committed files and their manifests, and between the manifests and
    ``packages`` (a version changed without `make assets`): an empty list when nothing does."""
    problems: list[str] = []
    for destination, pinned in destinations(packages).items():
        folder = root / destination
        path = folder / MANIFEST
        if not path.is_file():
            problems.append(f"{destination}/{MANIFEST}: missing")
            continue
        recorded = {entry["name"]: entry for entry in json.loads(path.read_text())["packages"]}
        for package in pinned:
            entry = recorded.pop(package.name, None)
            if entry is None:
                problems.append(f"{destination}: {package.spec} is not in {MANIFEST}")
                continue
            if entry["version"] != package.version:
                problems.append(
                    f"{destination}: {package.name} {entry['version']} shipped, {package.version} pinned"
                )
            listed = {f["path"]: f["sha256"] for f in entry["files"]}
            for relative, digest in listed.items():
                file = folder / relative
                if not file.is_file():
                    problems.append(f"{destination}/{relative}: missing")
                elif sha256(file.read_bytes()) != digest:
                    problems.append(f"{destination}/{relative}: changed since `make assets` wrote it")
            for licence in entry["licence_files"]:
                if licence not in listed:
                    problems.append(f"{destination}/{licence}: a licence file the manifest does not list")
            if not entry["licence_files"]:
                problems.append(f"{destination}: {package.name} has no licence file")
            on_disk = (folder / package.name).rglob("*") if (folder / package.name).is_dir() else iter(())
            for file in sorted(on_disk):
                relative = file.relative_to(folder).as_posix()
                if file.is_file() and relative not in listed:
                    problems.append(f"{destination}/{relative}: not in {MANIFEST}")
        for name in recorded:
            problems.append(f"{destination}: {name} is in {MANIFEST} but not pinned")
    return problems


# ---- the network part: npm


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise VendorError("npm is not on PATH: `make assets` needs Node.js and npm (nothing else does)")
    return npm


def _run(command: list[str], cwd: Path) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise VendorError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr.strip()}")
    if done.stderr.strip():
        print(done.stderr.strip(), file=sys.stderr)
    return done.stdout


def pack(package: Package, into: Path) -> tuple[Path, str]:
    """``npm pack`` the pinned version into ``into``: the tarball and its integrity."""
    answer = json.loads(_run([_npm(), "pack", package.spec, "--json", "--pack-destination", str(into)], into))
    packed = answer[0]
    if (packed["name"], packed["version"]) != (package.name, package.version):
        raise VendorError(f"npm pack {package.spec} gave {packed['name']}@{packed['version']}")
    return into / packed["filename"], str(packed["integrity"])


def compile_sass(tarball: Path, scss: str, work: Path) -> bytes:
    """The Sass ``scss`` compiled (compressed) against the package of ``tarball``, with dart-sass
    ``SASS_VERSION`` installed into ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    _run(
        [
            _npm(),
            "install",
            "--no-save",
            "--no-package-lock",
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
            "--omit=optional",
            f"sass@{SASS_VERSION}",
            str(tarball),
        ],
        work,
    )
    entry = work / "steadfast.scss"
    entry.write_text(scss)
    output = work / "out.css"
    _run(
        [
            str(work / "node_modules" / ".bin" / "sass"),
            "--load-path=node_modules",
            "--style=compressed",
            "--no-source-map",
            "--quiet-deps",
            "--silence-deprecation=import",
            entry.name,
            output.name,
        ],
        work,
    )
    return output.read_bytes()


def build(package: Package, work: Path) -> Built:
    """Fetch one package and make the files its folder will hold, checked."""
    folder = work / package.name
    folder.mkdir(parents=True)
    tarball, integrity = pack(package, folder)
    contents = tarball_files(tarball.read_bytes())
    meta = json.loads(contents["package.json"])
    if meta.get("version") != package.version:
        raise VendorError(f"{package.spec}: its package.json says version {meta.get('version')}")
    if declared_licence(meta) != package.licence:
        raise VendorError(
            f"{package.spec}: its package.json declares the licence {declared_licence(meta)!r}, "
            f"not {package.licence!r}: review the new licence, then change the pin's licence"
        )
    files: dict[str, bytes] = {}
    sources: dict[str, str] = {}
    for source, name in (
        *package.files.items(),
        *((p, PurePosixPath(p).name) for p in package.licence_files),
    ):
        if source not in contents:
            raise VendorError(f"{package.spec} has no {source}")
        files[name] = contents[source]
        sources[name] = source
    if package.licence_text is not None:
        kept, origin = package.licence_text
        files["LICENSE.txt"] = (ROOT / kept).read_bytes()
        sources["LICENSE.txt"] = f"{kept} (copied from {origin}; the package ships no licence file)"
    built_with: dict[str, str] = {}
    for name, scss in package.stylesheets.items():
        banner = (
            f"/*! {package.spec} ({package.licence}), compiled for Steadfast by tools/vendor_assets.py "
            "without the GOV.UK font and crest */\n"
        )
        css = compile_sass(tarball, banner + scss, folder / "sass")
        problems = stylesheet_problems(css.decode("utf-8-sig"), name, files)
        if problems:
            raise VendorError("\n".join(problems))
        files[name] = css
        sources[name] = f"its Sass (dist/govuk/index.scss), compiled by sass {SASS_VERSION} (GOVUK_SCSS)"
        built_with["sass"] = SASS_VERSION
    homepage = meta.get("homepage")
    return Built(
        package=package,
        files=files,
        sources=sources,
        integrity=integrity,
        homepage=homepage if isinstance(homepage, str) else None,
        built_with=built_with,
    )


def write(root: Path, built: Iterable[Built]) -> list[Path]:
    """Replace each destination's package folders and manifest with ``built``; the folders of packages
    its old manifest listed and no longer pinned are removed too."""
    by_destination: dict[str, list[Built]] = {}
    for b in built:
        by_destination.setdefault(b.package.destination, []).append(b)
    written: list[Path] = []
    for destination, packages in by_destination.items():
        folder = root / destination
        old = folder / MANIFEST
        names = {b.package.name for b in packages}
        if old.is_file():
            names |= {entry["name"] for entry in json.loads(old.read_text())["packages"]}
        for name in names:
            if (folder / name).is_dir():
                shutil.rmtree(folder / name)
        for b in packages:
            for name, content in b.files.items():
                path = folder / b.package.name / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
                written.append(path)
        old.parent.mkdir(parents=True, exist_ok=True)
        old.write_text(json.dumps(manifest(packages), indent=2) + "\n")
        written.append(old)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.vendor_assets", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--check", action="store_true", help="only check the committed files against their manifests"
    )
    arguments = parser.parse_args(argv)
    if arguments.check:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    try:
        with tempfile.TemporaryDirectory(prefix="steadfast-assets-") as work:
            built = []
            for package in PACKAGES:
                print(f"{package.spec}: npm pack", file=sys.stderr)
                built.append(build(package, Path(work)))
    except VendorError as exc:
        print(f"make assets: {exc}\nnothing was written", file=sys.stderr)
        return 1
    for path in write(ROOT, built):
        print(path.relative_to(ROOT).as_posix())
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
