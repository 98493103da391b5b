"""The CSMS wheel in a fresh virtualenv outside the checkout, as the Docker image installs it.

The wheel is built from the paths the Dockerfile's build stage copies, without network (the
main venv's setuptools, no build isolation). Its runtime dependencies are not downloaded again:
the distributions its `Requires-Dist` lines name, and theirs, are linked in from the main venv,
one top-level entry at a time, so the fresh venv holds csms, ocppj and simulators from the wheel
plus exactly the declared dependency closure. The checkout, the editable install's finder and
.pth, and the dev tools are not on its path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from importlib import metadata
from pathlib import Path, PurePosixPath

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "docker" / "Dockerfile"


@dataclass(frozen=True)
class FreshVenv:
    root: Path
    wheel: Path
    bin: Path
    site_packages: Path

    def env(self, **extra: str) -> dict[str, str]:
        """A bare environment: no PYTHONPATH, no CSMS_* or DATABASE_URL of the test run."""
        home = self.root / "home"
        home.mkdir(exist_ok=True)
        return {"PATH": f"{self.bin}{os.pathsep}{os.defpath}", "HOME": str(home), **extra}


def _pip(*args: str) -> None:
    """Run the main venv's pip quietly; on failure its output is the assertion message."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"pip {' '.join(args)}:\n{done.stdout}{done.stderr}"


def build_stage_sources() -> list[str]:
    """What the Dockerfile's first stage COPYs into the build context of the wheel."""
    sources: list[str] = []
    stage = 0
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if not words:
            continue
        if words[0].upper() == "FROM":
            stage += 1
        elif stage == 1 and words[0].upper() == "COPY" and not words[1].startswith("--"):
            sources.extend(words[1:-1])
    return sources


def build_wheel(into: Path) -> Path:
    """Copy the build stage's sources to `into`/src and build the wheel there (not in REPO)."""
    src = into / "src"
    src.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in build_stage_sources():
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(origin, src / name, ignore=ignore)
        else:
            shutil.copy2(origin, src / name)
    out = into / "wheels"
    _pip(
        "wheel",
        "--no-deps",
        "--no-index",
        "--no-build-isolation",
        "--wheel-dir",
        str(out),
        str(src),
    )
    (wheel,) = out.glob("csms-*.whl")
    return wheel


def runtime_closure(wheel: Path) -> list[metadata.Distribution]:
    """The installed distributions the wheel's requirements need, transitively (no extras of
    ours; a dependency's extras only where a requirement asks for them)."""
    with zipfile.ZipFile(wheel) as archive:
        (meta_name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        meta = Parser().parsestr(archive.read(meta_name).decode("utf-8"))
    todo = [(Requirement(line), "") for line in meta.get_all("Requires-Dist") or []]
    found: dict[str, metadata.Distribution] = {}
    expanded: set[tuple[str, str]] = set()  # (distribution, extra) whose requirements are queued
    while todo:
        requirement, extra = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        dist = found.setdefault(name, metadata.distribution(requirement.name))
        if not requirement.specifier.contains(dist.version, prereleases=True):
            raise AssertionError(f"{requirement} is not met by the main venv's {dist.version}")
        for wanted in ("", *sorted(requirement.extras)):
            if (name, wanted) not in expanded:
                expanded.add((name, wanted))
                todo.extend((Requirement(line), wanted) for line in dist.requires or [])
    return list(found.values())


def link_distributions(dists: list[metadata.Distribution], site_packages: Path) -> None:
    """Link every top-level file and folder of `dists` (packages, modules, dist-info) in."""
    for dist in dists:
        if dist.files is None:
            raise AssertionError(f"{dist.metadata['Name']} has no RECORD: cannot tell its files")
        base = Path(str(dist.locate_file("")))
        for top in {PurePosixPath(str(f)).parts[0] for f in dist.files}:
            target = site_packages / top
            if top == ".." or target.exists():
                continue
            target.symlink_to(base / top)


def make_fresh_venv(root: Path) -> FreshVenv:
    """Build the wheel, create a venv under `root`, install the wheel and link its closure."""
    wheel = build_wheel(root / "build")
    venv = root / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60
    )
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.strip()
    site_packages = Path(purelib)
    assert site_packages != Path(sysconfig.get_path("purelib")), "not a fresh venv"
    link_distributions(runtime_closure(wheel), site_packages)
    _pip("--python", str(python), "install", "--no-deps", "--no-index", str(wheel))
    return FreshVenv(root, wheel, venv / "bin", site_packages)
