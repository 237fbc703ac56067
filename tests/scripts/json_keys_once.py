#!/usr/bin/env python3
# json_keys_once.py FILE... - every non-empty line of every FILE is one JSON
# object in which each key appears once (a second "type" is silently kept as
# the only one by jq, Python and JavaScript alike). Prints the event types
# seen, one a line, sorted; exits 1 naming the file, line and key otherwise.
import json
import sys


class Duplicate(Exception):
    pass


def once(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise Duplicate(k)
        seen[k] = v
    return seen


def main(paths):
    types = set()
    bad = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line, object_pairs_hook=once)
                except Duplicate as e:
                    print(f"{path}:{n}: key {e} appears twice: {line.strip()}", file=sys.stderr)
                    bad += 1
                    continue
                except ValueError as e:
                    print(f"{path}:{n}: not JSON ({e}): {line.strip()}", file=sys.stderr)
                    bad += 1
                    continue
                if not isinstance(obj, dict) or "type" not in obj:
                    print(f"{path}:{n}: not an event object: {line.strip()}", file=sys.stderr)
                    bad += 1
                    continue
                types.add(obj["type"])
    for t in sorted(types):
        print(t)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
