"""Release tooling: seed 003's ``docker.sh`` as a typed Python module.

``python -m tools.release COMMAND`` builds the image with a unique tag (version + git
short sha + UTC build time), records it in ``.docker_build_version`` /
``.docker_build_image`` and then runs, pushes, tags ``latest`` and promotes that exact
build to the production registry. Every command checks the variables it needs first and
fails with one ``release: error: ...`` line and exit status 1.
"""
