"""Packaging glue pyproject.toml cannot express: the repo's `plugins/` folder ships as `readtrack_plugins`.

A generic top-level name such as `plugins` must never land in site-packages, so each paper plugin folder
`plugins/<paper>/` is installed as the package `readtrack_plugins.<paper>`.
"""

from setuptools import find_packages, setup

plugin_packages = ["readtrack_plugins"] + [f"readtrack_plugins.{name}" for name in find_packages("plugins")]

setup(
    packages=find_packages(include=["readtrack", "readtrack.*"]) + plugin_packages,
    package_dir={"readtrack_plugins": "plugins"},
    package_data={"readtrack_plugins": ["*/calibration.json"]},  # each plugin's seeds (runner.calibration)
)
