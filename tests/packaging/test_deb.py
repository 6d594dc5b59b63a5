"""`make deb` builds a Debian package that installs, works with pcs and crm_resource, and purges.

Two packages are built with the real dpkg-buildpackage: the one `make deb` ships (provider
``ovsha``), whose metadata and contents are checked without installing it, and one built with
``PROVIDER=ocfatestdeb``, which is installed with apt-get, used, and purged. The test provider
keeps the package clear of a `make install` of the same agents (provider ovsha) that other
tests may have done on this machine; the library path and the ocf-agents command are the
package's alone.
"""

from __future__ import annotations

import gzip
import os
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from lxml import etree

from man_pages import REPO, declared, examples, metadata_of, render

PACKAGE = "ocf-agents"
TEST_PROVIDER = "ocfatestdeb"
AGENTS = ["ovndb-servers", "OVSPort"]
LIBRARY = Path("/usr/lib/python3/dist-packages/ocf_agents")
APT_WAIT = ["-o", "DPkg::Lock::Timeout=120"]  # another apt or dpkg run may hold the lock for a while
SYSTEM_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8"}


def build(provider: str, out: Path) -> Path:
    """`make deb` for ``provider`` into ``out``; the path of the one .deb it made."""
    result = subprocess.run(
        ["make", "deb", f"PROVIDER={provider}", f"DEB_DIR={out}"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [deb] = out.glob("*.deb")
    return deb


@pytest.fixture(scope="module")
def shipped_deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build("ovsha", tmp_path_factory.mktemp("deb-ovsha"))


@pytest.fixture(scope="module")
def test_deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(TEST_PROVIDER, tmp_path_factory.mktemp("deb-test"))


def field(deb: Path, name: str) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True, check=True).stdout.strip()


def contents(deb: Path) -> dict[str, str]:
    """Path inside the package -> its mode string (``-rwxr-xr-x``), directories included."""
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    files = {}
    for line in listing.splitlines():
        mode, *_, path = line.split()
        files[path.removeprefix(".").rstrip("/") or "/"] = mode
    return files


def test_version_matches_the_python_package(shipped_deb: Path) -> None:
    from ocf_agents import __version__

    assert field(shipped_deb, "Version").split("-")[0] == __version__


def test_dependencies_are_declared(shipped_deb: Path) -> None:
    depends = [d.split()[0] for d in field(shipped_deb, "Depends").split(", ")]
    assert {"python3:any", "pacemaker-cli-utils", "resource-agents"} <= set(depends)
    recommends = field(shipped_deb, "Recommends").split(", ")
    assert {"ovn-central", "openvswitch-switch"} <= set(recommends)


def test_package_holds_agents_library_man_pages_and_command(shipped_deb: Path) -> None:
    files = contents(shipped_deb)
    for agent in AGENTS:
        assert files[f"/usr/lib/ocf/resource.d/ovsha/{agent}"] == "-rwxr-xr-x"
        assert f"/usr/share/man/man7/ocf_ovsha_{agent}.7.gz" in files
    assert files["/usr/sbin/ocf-agents"] == "-rwxr-xr-x"
    assert "/usr/share/man/man8/ocf-agents.8.gz" in files
    sources = {str(p.relative_to(REPO)) for p in (REPO / "ocf_agents").rglob("*.py")}
    packaged = {p.removeprefix("/usr/lib/python3/dist-packages/") for p in files if p.startswith(str(LIBRARY))}
    assert sources <= packaged
    assert not any("__pycache__" in p or p.endswith(".pyc") for p in files)
    for guide in ("guide.md", "troubleshooting.md", "ovndb-monitor-states.md", "ovsport-guide.md", "writing-an-agent.md"):
        assert any(p.startswith(f"/usr/share/doc/ocf-agents/{guide}") for p in files), guide


def test_packaged_man_pages_are_the_committed_ones(shipped_deb: Path, tmp_path: Path) -> None:
    subprocess.run(["dpkg-deb", "-x", str(shipped_deb), str(tmp_path)], check=True)
    for name in [f"ocf_ovsha_{agent}.7" for agent in AGENTS] + ["ocf-agents.8"]:
        packaged = tmp_path / "usr/share/man" / f"man{name[-1]}" / f"{name}.gz"
        assert gzip.decompress(packaged.read_bytes()).decode() == (REPO / "docs" / "man" / name).read_text()


@pytest.fixture(scope="module")
def installed(test_deb: Path) -> Iterator[Path]:
    """The test package installed with apt-get, as an operator installs a downloaded .deb
    (its dependencies are already installed by make deps); purged afterwards if a test left
    it installed."""
    if os.geteuid() != 0:
        pytest.skip("needs root to install a Debian package")
    if known_to_dpkg(PACKAGE):
        if not is_test_build_leftover():
            pytest.skip(f"a package named {PACKAGE} is already installed here; installing the test build would replace it")
        subprocess.run(["dpkg", "--purge", PACKAGE], capture_output=True, timeout=120, check=True)
    result = subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *APT_WAIT, str(test_deb)],
        env={**SYSTEM_ENV, "DEBIAN_FRONTEND": "noninteractive"}, capture_output=True, text=True, timeout=300,
    )
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        yield test_deb
    finally:
        if known_to_dpkg(PACKAGE):
            subprocess.run(["dpkg", "--purge", PACKAGE], capture_output=True, timeout=120)


def is_test_build_leftover() -> bool:
    """The installed ocf-agents is this test's own build, left by an interrupted run."""
    listed = subprocess.run(["dpkg", "-L", PACKAGE], capture_output=True, text=True).stdout.split()
    return f"/usr/lib/ocf/resource.d/{TEST_PROVIDER}" in listed


def known_to_dpkg(package: str) -> bool:
    """The package is on the system in any state (installed, half-installed, config-files...)."""
    status = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Status}", package], capture_output=True, text=True)
    return status.returncode == 0 and status.stdout not in ("", "not-installed")


def run_installed(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run as an operator would: from /, with the system's PATH, away from this checkout."""
    return subprocess.run(argv, cwd="/", env=SYSTEM_ENV, capture_output=True, text=True, timeout=60, **kwargs)


def test_installed_agents_report_their_meta_data(installed: Path) -> None:
    for agent in AGENTS:
        shown = run_installed(["crm_resource", "--show-metadata", f"ocf:{TEST_PROVIDER}:{agent}"], check=True)
        assert shown.stdout == metadata_of(REPO / "heartbeat" / agent)


def test_pcs_describes_the_installed_agent(installed: Path) -> None:
    described = run_installed(["pcs", "resource", "describe", f"ocf:{TEST_PROVIDER}:ovndb-servers"], check=True).stdout
    agent = declared(metadata_of(REPO / "heartbeat" / "ovndb-servers"))
    assert described.startswith(f"ocf:{TEST_PROVIDER}:ovndb-servers - {agent.shortdesc}")
    for param in agent.parameters:
        assert f"\n  {param['name']}" in described, param["name"]


def test_library_and_command_come_from_the_package(installed: Path) -> None:
    where = run_installed(["/usr/bin/python3", "-c", "import ocf_agents; print(ocf_agents.__file__)"], check=True)
    assert where.stdout.strip() == str(LIBRARY / "__init__.py")
    helped = run_installed(["ocf-agents", "--help"], check=True)
    assert helped.stdout.startswith("usage: ocf-agents")


def test_installed_man_page_examples_configure_the_agent(installed: Path, tmp_path: Path) -> None:
    """`man ocf_<provider>_ovndb-servers` finds the page; its pcs example makes a promotable
    clone of the installed agent in a scratch CIB file."""
    page = run_installed(["man", "-w", f"ocf_{TEST_PROVIDER}_ovndb-servers"], check=True).stdout.strip()
    assert page == f"/usr/share/man/man7/ocf_{TEST_PROVIDER}_ovndb-servers.7.gz"
    cib = tmp_path / "cib.xml"
    cib.write_text(run_installed(["cibadmin", "--empty"], check=True).stdout)
    for argv in examples(render(gzip.decompress(Path(page).read_bytes()).decode())[0], "pcs"):
        run_installed(["pcs", "-f", str(cib), *argv[1:]], check=True)
    clone = etree.parse(str(cib)).find(".//resources/clone")
    primitive = clone.find("primitive")
    assert (primitive.get("provider"), primitive.get("type")) == (TEST_PROVIDER, "ovndb-servers")
    meta = {nv.get("name"): nv.get("value") for nv in clone.iterfind("meta_attributes/nvpair")}
    assert meta == {"promotable": "true", "notify": "true"}


def test_purge_removes_every_file(installed: Path) -> None:
    """Runs last in this module: it removes what the fixture installed."""
    listed = run_installed(["dpkg", "-L", PACKAGE], check=True).stdout.split()
    owned = [Path(p) for p in listed if not Path(p).is_dir() or TEST_PROVIDER in p or str(LIBRARY) in p]
    assert any(LIBRARY in p.parents for p in owned)
    run_installed(["apt-get", "remove", "--purge", "-y", "-q", *APT_WAIT, PACKAGE], check=True)
    assert not known_to_dpkg(PACKAGE)
    assert [p for p in owned if p.exists()] == []
    assert not LIBRARY.exists()  # byte code compiled at installation is gone too
    assert not Path(f"/usr/lib/ocf/resource.d/{TEST_PROVIDER}").exists()
