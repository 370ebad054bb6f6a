"""The wheel: builds without warnings, holds every subpackage and its data files, and
says which extra brings the PostgreSQL driver."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Messages of the environment, not of our configuration.
HARMLESS = re.compile(r"byte-compiling is disabled|Running pip as the 'root' user|is ignored: it")


def docker_build_context(into: Path) -> Path:
    """What deploy/Dockerfile's build stage copies, laid out as it does (its COPY lines
    before the second FROM), tracked files only: the wheel below is built from that, so
    a file the build needs and the image leaves out fails here, not in a user's build."""
    stage = (ROOT / "deploy" / "Dockerfile").read_text().split("\nFROM ")[1]
    tracked = set(
        subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
    )
    for line in stage.splitlines():
        if not line.startswith("COPY "):
            continue
        *sources, dest = line.split()[1:]
        for source in sources:
            for path in tracked:
                if path != source and not path.startswith(source.rstrip("/") + "/"):
                    continue
                if dest.rstrip("/") in ("", "."):
                    target = into / (Path(path).name if path == source else path)
                else:
                    target = into / dest / Path(path).relative_to(source)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes((ROOT / path).read_bytes())
    return into


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    import setuptools

    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip("setuptools >= 77 builds SPDX licences: pip install -e '.[dev]'")
    out = tmp_path_factory.mktemp("wheel")
    context = docker_build_context(tmp_path_factory.mktemp("context"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-v",
            "-w",
            str(out),
            str(context),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [built] = out.glob("stormwatch-*.whl")
    return built, result.stdout + result.stderr


@pytest.mark.slow
def test_wheel_builds_without_warnings(wheel: tuple[Path, str]) -> None:
    _, log = wheel
    warnings = [
        line
        for line in log.splitlines()
        if re.search(r"warn|deprecat", line, re.IGNORECASE) and not HARMLESS.search(line)
    ]
    assert not warnings, warnings


@pytest.mark.slow
def test_wheel_holds_every_package_and_its_data(wheel: tuple[Path, str]) -> None:
    built, _ = wheel
    names = set(zipfile.ZipFile(built).namelist())
    mapping = {
        "stormwatch": "stormwatch",
        "ingest": "stormwatch/ingest",
        "detectors": "stormwatch/detectors",
        "alerts": "stormwatch/alerts",
        "playbooks": "stormwatch/playbooks",
    }
    tracked = subprocess.run(
        ["git", "ls-files", *mapping], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    missing = []
    for path in tracked:
        top, _, rest = path.partition("/")
        if "/tests/" in f"/{rest}" or "__pycache__" in rest:
            continue
        installed = f"{mapping[top]}/{rest}"
        if installed not in names:
            missing.append(installed)
    assert not missing, missing
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(built).read(metadata).decode()
    assert "License-Expression: Apache-2.0" in text
    licences = {n.split(".dist-info/licenses/")[1] for n in names if ".dist-info/licenses/" in n}
    assert licences == {"LICENSE", "stormwatch/evaluation/data/nab/LICENSE.txt"}, licences
    assert "Provides-Extra: postgres" in text


def test_missing_postgres_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from stormwatch.alerts.exceptions import StoreError
    from stormwatch.alerts.store import IncidentStore

    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg -> ImportError
    with pytest.raises(StoreError, match=r"stormwatch\[postgres\]"):
        IncidentStore.open("postgresql+psycopg://nobody@127.0.0.1:1/none")
