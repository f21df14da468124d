"""`python -m conveyor`: the same CLI as the `conveyor` script, for environments where the
script's folder is not on PATH (a venv not activated, `pipx run`, CI images)."""

from conveyor.cli.main import run

if __name__ == "__main__":
    run()
