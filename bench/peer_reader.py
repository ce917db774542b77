#!/usr/bin/env python3
"""Peer for `trialdex-bench reader`: what a data engineer would otherwise write.

Parses every record of the given files with Python's standard library
(json for JSON Lines, xml.etree for the tar of legacy XML files), RUNS
times, and prints the median wall time as one line of JSON.
usage: peer_reader.py [--runs N] FILE...
"""
import gzip
import json
import statistics
import sys
import tarfile
import time
import xml.etree.ElementTree as ET


def read_file(path):
    records = 0
    if path.endswith((".jsonl.gz", ".jsonl")):
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    json.loads(line)
                    records += 1
    elif ".tar" in path:
        with tarfile.open(path) as tar:
            for member in tar:
                if member.isfile() and member.name.endswith(".xml"):
                    ET.fromstring(tar.extractfile(member).read())
                    records += 1
    else:
        raise SystemExit(f"peer_reader.py: unsupported file {path}")
    return records


def main(argv):
    runs = 5
    if len(argv) > 2 and argv[1] == "--runs":
        runs = int(argv[2])
        argv = argv[2:]
    paths = argv[1:]
    if not paths:
        raise SystemExit(__doc__)
    times = []
    for _ in range(runs):
        start = time.monotonic()
        records = sum(read_file(p) for p in paths)
        times.append(time.monotonic() - start)
    median = statistics.median(times)
    print(json.dumps({"bench": "peer_reader_python", "runs": runs, "records": records,
                      "median_s": round(median, 3), "records_per_s": round(records / median)}))


if __name__ == "__main__":
    main(sys.argv)
