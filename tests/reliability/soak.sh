#!/bin/sh
# Soak test (see soak.py): SOAK_SECONDS=600 by default; CI uses a short value.
exec /usr/bin/python3 "$(dirname "$0")/soak.py" "$@"
