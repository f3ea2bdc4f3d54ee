"""An installed wheel serves Bahasa Indonesia and its pages: the build compiles the
catalogs and bundles templates, static files and sample courses (setup.py)."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHECK = """
import sys
from lms import create_app
import lms
app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x", "TESTING": True})
html = app.test_client().get("/login").get_data(as_text=True)
css = app.test_client().get("/static/css/app.css")
print(lms.__file__)
print(app.template_folder)
print(app.instance_path)
print('lang="id"' in html, "Kata sandi" in html, "Masuk" in html, css.status_code)
"""


def test_a_wheel_installed_elsewhere_serves_bahasa_indonesia(tmp_path: Path) -> None:
    # Built from this checkout with the build tools already installed (no download).
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(ROOT)],
        check=True, cwd=tmp_path, timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("lentera-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    catalogs = [n for n in names if n.endswith("/id/LC_MESSAGES/messages.mo")]
    sources = list(ROOT.glob("lms/**/translations/id/LC_MESSAGES/messages.po"))
    assert len(catalogs) == len(sources) > 1
    assert "lms/_files/templates/base.html" in names
    assert "lms/_files/static/css/app.css" in names
    assert any(n.startswith("lms/_files/courses/") for n in names)
    assert "lms/competency/data/standard-defaults.json" in names
    assert not [n for n in names if n.endswith(".pyc")]

    # A fresh environment: the wheel unpacked into its site-packages (a pure wheel is
    # installed by unpacking), the dependencies borrowed from this one by path.
    env = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env)
    python = env / "bin" / "python"
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    zipfile.ZipFile(wheel).extractall(site)
    # Every package of this environment but Lentera itself and its editable plugins.
    deps = tmp_path / "deps"
    deps.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.lower().startswith(("lentera", "lms", "__editable__", "_lentera")):
            (deps / entry.name).symlink_to(entry)
    (site / "borrowed-dependencies.pth").write_text(f"{deps}\n")
    run = tmp_path / "run"
    run.mkdir()
    out = subprocess.run([str(python), "-c", CHECK], check=True, capture_output=True,
                         text=True, cwd=run, timeout=120).stdout.splitlines()
    package, templates, instance, result = out[-4:]
    assert package.startswith(str(site)), package  # the wheel's copy, not this checkout
    assert templates == str(site / "lms" / "_files" / "templates")
    assert instance == str(run / "instance")
    assert result == "True True True 200"
