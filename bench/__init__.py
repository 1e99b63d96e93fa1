"""FunSun's benchmark: seed a separate database, serve it with gunicorn, load it, report.

Run it with `make bench` or `.venv/bin/python -m bench --help`; bench/README.md explains it.
"""
