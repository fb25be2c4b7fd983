"""`python -m readtrack` is the `readtrack` command."""

from readtrack.cli.launch import main

if __name__ == "__main__":
    main()
