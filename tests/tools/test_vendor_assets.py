"""``make assets`` (tools/vendor_assets.py), the parts that need no npm: the pins, reading a tarball,
checking a compiled stylesheet's ``url()``s, writing a destination and its manifest, and ``--check``
catching a hand edit, a stray file or a pin changed without running it."""

from __future__ import annotations

import io
import json
import re
import tarfile
from pathlib import Path

import pytest

from tools import vendor_assets
from tools.vendor_assets import (
    GOVUK_SCSS,
    MANIFEST,
    PACKAGES,
    Built,
    Package,
    check,
    css_urls,
    declared_licence,
    stylesheet_problems,
    tarball_files,
    unresolved_urls,
    write,
)

#: The major versions asked for.
MAJORS = {"govuk-frontend": 5, "chart.js": 4, "swagger-ui-dist": 5, "redoc": 2, "axe-core": 4}


def test_every_package_is_pinned_exactly_with_a_licence() -> None:
    assert {p.name: int(p.version.split(".")[0]) for p in PACKAGES} == MAJORS
    for package in PACKAGES:
        assert re.fullmatch(r"\d+\.\d+\.\d+", package.version), package.spec
        assert package.licence_files or package.licence_text, f"{package.name} ships no licence"
        if package.licence_text is not None:
            assert (vendor_assets.ROOT / package.licence_text[0]).is_file()
    assert re.fullmatch(r"\d+\.\d+\.\d+", vendor_assets.SASS_VERSION)


def test_the_govuk_sass_leaves_out_the_govuk_font() -> None:
    assert "$govuk-font-family: arial, sans-serif;" in GOVUK_SCSS
    assert "$govuk-include-default-font-face: false;" in GOVUK_SCSS
    assert "GDS Transport" not in GOVUK_SCSS


def test_the_tarball_url_is_the_public_registrys() -> None:
    plain = Package(name="chart.js", version="4.6.1", licence="MIT", destination="x", files={})
    scoped = Package(name="@scope/thing", version="1.0.0", licence="MIT", destination="x", files={})
    assert plain.tarball_url == "https://registry.npmjs.org/chart.js/-/chart.js-4.6.1.tgz"
    assert scoped.tarball_url == "https://registry.npmjs.org/@scope/thing/-/thing-1.0.0.tgz"


@pytest.mark.parametrize(
    ("meta", "licence"),
    [
        ({"license": "MIT"}, "MIT"),
        ({"license": {"type": "Apache-2.0", "url": "..."}}, "Apache-2.0"),
        ({}, None),
        ({"license": ["MIT"]}, None),
    ],
)
def test_the_declared_licence(meta: dict[str, object], licence: str | None) -> None:
    assert declared_licence(meta) == licence


def tarball(files: dict[str, bytes], top: str = "package") -> bytes:
    content = io.BytesIO()
    with tarfile.open(fileobj=content, mode="w:gz") as archive:
        folder = tarfile.TarInfo(f"{top}/dist")
        folder.type = tarfile.DIRTYPE
        archive.addfile(folder)
        for name, data in files.items():
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return content.getvalue()


def test_a_tarballs_files_are_read_by_their_path_in_the_package() -> None:
    files = {"package.json": b"{}", "dist/a.js": b"a", "../escape": b"x"}
    # Some packages' tarballs name their top folder otherwise than "package".
    for top in ("package", "chart.js"):
        assert tarball_files(tarball(files, top)) == {"package.json": b"{}", "dist/a.js": b"a"}


def test_css_urls_quoted_or_not() -> None:
    css = (
        """a{background:url("x/a.png")}b{background:url( 'b.svg' )}c{background:url(c.gif)}"""
        """d{mask:url("data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>")}"""
    )
    assert css_urls(css) == [
        "x/a.png",
        "b.svg",
        "c.gif",
        "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>",
    ]


def test_a_url_resolves_only_to_a_shipped_file_beside_the_stylesheet() -> None:
    shipped = {"css/site.css", "images/a.png", "css/b.svg"}
    css = " ".join(
        f"x{{background:url({url})}}"
        for url in (
            "../images/a.png",
            "b.svg?v=1#icon",
            '"data:image/png;base64,AAAA"',
            "../images/missing.png",
            "https://cdn.example/a.png",
            "//cdn.example/a.png",
            "/images/a.png",
            "../../outside.png",
        )
    )
    assert unresolved_urls(css, "css/site.css", shipped) == [
        "../images/missing.png",
        "https://cdn.example/a.png",
        "//cdn.example/a.png",
        "/images/a.png",
        "../../outside.png",
    ]


def test_a_stylesheet_with_the_govuk_font_is_refused() -> None:
    css = '@font-face{font-family:"GDS Transport";src:url("fonts/light.woff2")}'
    problems = stylesheet_problems(css, "govuk.css", {"govuk.css"})
    assert len(problems) == 3
    assert stylesheet_problems("a{font-family:arial,sans-serif}", "govuk.css", {"govuk.css"}) == []


def pinned(version: str = "1.2.3", destination: str = "vendor") -> Package:
    return Package(
        name="thing",
        version=version,
        licence="MIT",
        destination=destination,
        files={"dist/thing.min.js": "thing.min.js"},
        licence_files=("LICENSE",),
    )


def built(package: Package, script: bytes = b"thing()") -> Built:
    return Built(
        package=package,
        files={"thing.min.js": script, "LICENSE": b"MIT licence"},
        sources={"thing.min.js": "dist/thing.min.js", "LICENSE": "LICENSE"},
        integrity="sha512-abc",
    )


def test_written_files_pass_the_check_and_a_hand_edit_fails_it(tmp_path: Path) -> None:
    package = pinned()
    write(tmp_path, [built(package)])
    entry = json.loads((tmp_path / "vendor" / MANIFEST).read_text())["packages"][0]
    assert entry["source"] == "https://registry.npmjs.org/thing/-/thing-1.2.3.tgz"
    assert entry["licence_files"] == ["thing/LICENSE"]
    assert {f["path"] for f in entry["files"]} == {"thing/thing.min.js", "thing/LICENSE"}
    assert check(tmp_path, [package]) == []

    (tmp_path / "vendor/thing/thing.min.js").write_bytes(b"thing(); evil()")
    assert check(tmp_path, [package]) == ["vendor/thing/thing.min.js: changed since `make assets` wrote it"]


def test_the_check_finds_stray_missing_and_unpinned_files(tmp_path: Path) -> None:
    package = pinned()
    write(tmp_path, [built(package)])
    (tmp_path / "vendor/thing/extra.js").write_text("x")
    (tmp_path / "vendor/thing/LICENSE").unlink()
    assert check(tmp_path, [package]) == [
        "vendor/thing/LICENSE: missing",
        "vendor/thing/extra.js: not in MANIFEST.json",
    ]
    assert check(tmp_path, [pinned(version="1.3.0")])[0] == "vendor: thing 1.2.3 shipped, 1.3.0 pinned"
    other = Package(name="other", version="1.0.0", licence="MIT", destination="vendor", files={})
    assert check(tmp_path, [other]) == [
        "vendor: other@1.0.0 is not in MANIFEST.json",
        "vendor: thing is in MANIFEST.json but not pinned",
    ]
    assert check(tmp_path, [pinned(destination="elsewhere")]) == ["elsewhere/MANIFEST.json: missing"]


def test_writing_again_replaces_the_folder_and_drops_unpinned_packages(tmp_path: Path) -> None:
    old = Package(name="old", version="1.0.0", licence="MIT", destination="vendor", files={})
    write(tmp_path, [built(pinned()), Built(old, {"LICENSE": b"MIT"}, {"LICENSE": "LICENSE"}, "sha512-x")])
    (tmp_path / "vendor/thing/stale.js").write_text("x")
    write(tmp_path, [built(pinned(), script=b"thing(2)")])
    assert not (tmp_path / "vendor/old").exists()
    assert not (tmp_path / "vendor/thing/stale.js").exists()
    assert (tmp_path / "vendor/thing/thing.min.js").read_bytes() == b"thing(2)"
    assert check(tmp_path, [pinned()]) == []


def test_the_committed_files_are_the_pinned_ones() -> None:
    """`python -m tools.vendor_assets --check` on this repository: run `make assets` after a pin changes."""
    assert check() == []
    assert vendor_assets.main(["--check"]) == 0
