"""Bench-only Django site for bench/admission.py: the project's URLs plus a floor view.

A sub-package (not bench/*.py modules) because `devtools.run bench` runs every bench/*.py
as a script, and these modules are only meant to be imported by gunicorn.
"""
