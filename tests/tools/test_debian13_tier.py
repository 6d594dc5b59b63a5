"""tools/test-debian13, the Debian 13 tier's runner, run for real.

Issue 18 asks that a tier run where debootstrap or a package cannot be had says which and is
skipped (exit 0), never failing ``make test`` on Debian 12, and that a run leaves no mount,
process or directory behind. These tests induce each failure through the script's own seams
(``OCFA_D13_MIRROR``, ``OCFA_D13_CACHE``) or the standard ones of the tools it calls (``PATH``,
apt's ``APT_CONFIG``), never by editing the script, and check its command line.

Nothing here builds a root or leaves the machine: the mirror is a loopback port where nothing
listens, so debootstrap fails at once, and apt reads an empty state of the test's own. The
runs inside a root use the root already cached for this checkout, through a cache directory of
the test's own that links to it: the shared cache is only read.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tools" / "test-debian13"
# Where the script keeps its root unless told otherwise: the tests only read it.
SHARED_CACHE = Path(os.environ.get("OCFA_D13_CACHE", "/var/cache/ocf-agents/debian13"))
# The PATH the tests give the script: the usual one, where Debian puts debootstrap (sbin).
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
# The tiers a run without the lab must run, and the lab's (the script's TIERS, LAB_TIERS).
TIERS = {"tests/unit", "tests/conformance", "tests/setup", "tests/integration"}
LAB_TIER = "tests/cluster"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the tier runs as root (mounts, chroot)")


def run_script(args: list[str], cache: Path, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    """The real script with ``args``, keeping its root in ``cache`` (never the shared one).

    No proxy: the loopback mirror must be asked directly, never through a proxy elsewhere
    (no_proxy also overrides one set in /etc/wgetrc, which debootstrap's wget reads).
    """
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith("OCFA_D13_") and not k.lower().endswith("_proxy")}
    environment.update({"PATH": SYSTEM_PATH, "OCFA_D13_CACHE": str(cache), "no_proxy": "127.0.0.1", **env})
    return subprocess.run([str(SCRIPT), *args], env=environment, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


def skip_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("test-debian13: SKIPPED: ")]


def mounts_under(path: Path) -> list[str]:
    """This mount namespace's mounts that name ``path`` (a mount point or an overlay's layer)."""
    return [line for line in Path("/proc/self/mountinfo").read_text().splitlines() if str(path) in line]


def processes_naming(text: str) -> list[str]:
    """Command lines of the machine's processes that contain ``text``, this test's aside."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone since the listing
            continue
        if text in cmdline:
            found.append(f"{proc.name}: {cmdline}")
    return found


def assert_nothing_left(path: Path, marker: str) -> None:
    """No mount and no process names ``path`` or ``marker`` any more."""
    assert mounts_under(path) == []
    assert processes_naming(marker) == []
    assert processes_naming(str(path)) == []


def apt_config(directory: Path, status: str = "") -> Path:
    """An apt configuration whose whole state is ``directory``: no sources, ``status`` as dpkg's.

    apt then knows no package but those of ``status`` and fails at once, as on a machine
    whose sources lack what is asked, without the machine's dpkg lock or network.
    """
    for sub in ("etc/apt/apt.conf.d", "etc/apt/sources.list.d", "etc/apt/preferences.d",
                "var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg"):
        (directory / sub).mkdir(parents=True)
    (directory / "var/lib/dpkg/status").write_text(status)
    config = directory / "apt.conf"
    config.write_text(f'Dir "{directory}/";\n')
    return config


@pytest.fixture
def dead_mirror() -> Iterator[str]:
    """A mirror URL on a loopback port held by this test and not listening: refused at once."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{held.getsockname()[1]}/debian"


@pytest.fixture
def debootstrap_present() -> None:
    """Without debootstrap the script installs it from the machine's apt sources: not here."""
    if shutil.which("debootstrap", path=SYSTEM_PATH) is None:
        pytest.skip("debootstrap is not installed (tools/test-debian13 would install it with apt-get)")


def root_key(tmp_path: Path, mirror: str) -> str:
    """The name of the root this checkout's script uses (root-<key>), as the script says it."""
    result = run_script([], tmp_path / "key-cache", OCFA_D13_MIRROR=mirror)
    found = re.search(r"building the trixie root in \S+/(root-[0-9a-f]+) ", result.stderr)
    assert found, result.stderr
    return found.group(1)


@pytest.fixture
def cached_root(tmp_path: Path, dead_mirror: str, debootstrap_present: None) -> Path:
    """A cache of the test's own holding a link to this checkout's root in the shared cache."""
    name = root_key(tmp_path, dead_mirror)
    if not (SHARED_CACHE / name).is_dir():
        pytest.skip(f"no Debian 13 root for this checkout in {SHARED_CACHE} ({name}): make test-debian13 builds it")
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    (cache / name).symlink_to(SHARED_CACHE / name)
    return cache


def overlay_dir(mountinfo: str) -> Path:
    """The run's own directory (the overlay's upper layer's parent) from the root's mountinfo."""
    found = re.search(r"\bupperdir=(\S+?)/upper\b", mountinfo)
    assert found, mountinfo
    return Path(found.group(1))


@pytest.mark.parametrize("args", [
    ["--bogus"], ["-k", "test_x"], ["tests/unit"], ["--run"], ["--without-lab", "--only-lab"],
    ["--only-lab", "-x"],
], ids=" ".join)
def test_a_wrong_command_line_is_a_usage_error_before_anything_is_built(args: list[str], tmp_path: Path) -> None:
    result = run_script(args, tmp_path / "cache", OCFA_D13_MIRROR="http://127.0.0.1:9/never-asked")
    assert result.returncode == 2
    assert "usage: tools/test-debian13" in result.stderr
    assert skip_lines(result) == []
    assert not (tmp_path / "cache").exists()


def test_help_prints_the_usage(tmp_path: Path) -> None:
    result = run_script(["--help"], tmp_path / "cache")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: tools/test-debian13 [--without-lab | --only-lab]")
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("args", [[], ["--without-lab"], ["--only-lab", "--", "-x"], ["--run", "true"]],
                         ids=lambda args: " ".join(args) or "every-tier")
def test_an_unreachable_mirror_skips_naming_debootstrap_and_the_mirror(
        args: list[str], tmp_path: Path, dead_mirror: str, debootstrap_present: None) -> None:
    cache = tmp_path / "cache"
    result = run_script(args, cache, timeout=30, OCFA_D13_MIRROR=dead_mirror)
    assert result.returncode == 0, result.stderr
    [line] = skip_lines(result)
    assert f"debootstrap trixie from {dead_mirror} failed" in line
    assert f"{dead_mirror}/dists/trixie/Release" in line  # what could not be had
    # The half-made root is gone; only the log the skip points to stays, readable by root only.
    assert [path.name for path in cache.iterdir() if path.suffix != ".log"] == []
    assert [oct(log.stat().st_mode & 0o777) for log in cache.glob("*.log")] == ["0o600"]
    assert_nothing_left(cache, dead_mirror)


def test_debootstrap_that_cannot_be_installed_skips_naming_it(tmp_path: Path) -> None:
    # Debian puts debootstrap in /usr/sbin: without sbin in PATH the script must install it,
    # and apt, seeing no sources, cannot.
    path = "/usr/bin:/bin"
    if shutil.which("debootstrap", path=path):
        pytest.skip(f"debootstrap is in {path} here")
    cache = tmp_path / "cache"
    result = run_script([], cache, timeout=30, PATH=path, APT_CONFIG=str(apt_config(tmp_path / "apt")))
    assert result.returncode == 0, result.stderr
    assert skip_lines(result) == [
        "test-debian13: SKIPPED: the package debootstrap cannot be had from this machine's apt sources"]
    assert not cache.exists()


def test_a_user_other_than_root_is_skipped(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(SCRIPT)],
                            env={"PATH": SYSTEM_PATH, "OCFA_D13_CACHE": str(cache)}, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert skip_lines(result) == ["test-debian13: SKIPPED: needs root (debootstrap, chroot, mounts, namespaces)"]
    assert not cache.exists()


def test_packages_apt_cannot_install_are_named_from_its_messages(tmp_path: Path) -> None:
    """The names the install-deps skip gives, read from what a real apt says of them.

    ocfa-referred is only referred to (no installation candidate), ocfa-unknown unknown.
    """
    status = ("Package: ocfa-installed\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n"
              "Maintainer: ocf-agents tests <root@localhost>\nDepends: ocfa-referred\nDescription: d\n\n")
    config = apt_config(tmp_path / "apt", status)
    apt = subprocess.run(["apt-get", "install", "--simulate", "ocfa-referred", "ocfa-unknown"],
                         env={"PATH": SYSTEM_PATH, "APT_CONFIG": str(config)}, capture_output=True,
                         text=True, timeout=30)
    assert apt.returncode != 0
    log = tmp_path / "install.log"
    log.write_text(apt.stdout + apt.stderr)
    named = subprocess.run(["bash", "-c", '. "$1"; missing_packages "$2"', "bash", str(SCRIPT), str(log)],
                           capture_output=True, text=True, check=True, timeout=30)
    assert named.stdout.split() == ["ocfa-referred", "ocfa-unknown"]


def test_run_runs_the_command_in_the_debian13_root_from_the_checkout(cached_root: Path) -> None:
    result = run_script(["--run", "sh", "-c", "pwd; cat /etc/debian_version; test -x tools/test-debian13; exit 3"],
                        cached_root)
    assert result.returncode == 3, result.stderr  # the command's own code
    cwd, version = result.stdout.splitlines()
    assert cwd == "/src"
    assert version.startswith("13.")
    assert "test-debian13: versions: " in result.stderr


def test_run_leaves_no_mount_process_or_directory(cached_root: Path) -> None:
    marker = "987.125"  # a sleep left running by the command, found by its argument
    result = run_script(["--run", "sh", "-c", f"cat /proc/self/mountinfo; sleep {marker} &"], cached_root)
    assert result.returncode == 0, result.stderr
    work = overlay_dir(result.stdout)
    assert not work.exists()
    assert_nothing_left(work, f"sleep {marker}")


def test_an_interrupted_run_leaves_no_mount_process_or_directory(cached_root: Path) -> None:
    marker = "986.125"
    environment = {"PATH": SYSTEM_PATH, "OCFA_D13_CACHE": str(cached_root)}
    command = [str(SCRIPT), "--run", "sh", "-c", f"grep ' overlay ' /proc/self/mountinfo; exec sleep {marker}"]
    with subprocess.Popen(command, env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as run:
        try:
            work = overlay_dir(run.stdout.readline())  # the command is running: Ctrl-C now
            run.send_signal(signal.SIGINT)
            assert run.wait(timeout=30) == 130
        finally:
            run.kill()
    assert not work.exists()
    assert_nothing_left(work, f"sleep {marker}")


def test_without_lab_runs_every_tier_but_the_labs(cached_root: Path) -> None:
    result = run_script(["--without-lab", "--", "--collect-only", "-q"], cached_root, timeout=300)
    assert result.returncode == 0, result.stderr
    collected = {"/".join(line.split("/")[:2]) for line in result.stdout.splitlines() if "::" in line}
    assert collected == TIERS
    assert f"the lab's tier ({LAB_TIER}) not run: --without-lab" in result.stderr
