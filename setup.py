"""Packaging glue pyproject.toml cannot express.

- The repo's `plugins/` folder ships as `readtrack_plugins`: a generic top-level name such as `plugins` must
  never land in site-packages, so each paper plugin folder `plugins/<paper>/` is installed as the package
  `readtrack_plugins.<paper>`.
- The seed reading list is the repository's own `papers.yaml`, at its top level (the reader's list, kept in
  git); a wheel carries a copy of it as `readtrack/data/papers.yaml`, made here at build time, so an install
  from an index still opens the sample. One source of truth: there is no second copy in the tree.
"""

import shutil
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

SEED_LIST = Path(__file__).resolve().parent / "papers.yaml"


class BuildPyWithSeedList(build_py):
    """build_py, plus the seed list copied into the built package (an editable install reads the clone's
    own papers.yaml instead: `readtrack.base.paths.bundled_catalog_text`)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "readtrack" / "data" / "papers.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SEED_LIST, target)


plugin_packages = ["readtrack_plugins"] + [f"readtrack_plugins.{name}" for name in find_packages("plugins")]

setup(
    packages=find_packages(include=["readtrack", "readtrack.*"]) + plugin_packages,
    package_dir={"readtrack_plugins": "plugins"},
    package_data={"readtrack_plugins": ["*/calibration.json"]},  # each plugin's seeds (runner.calibration)
    cmdclass={"build_py": BuildPyWithSeedList},
)
