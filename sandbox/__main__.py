"""`python -m sandbox` runs the sandbox command line."""

from sandbox.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
