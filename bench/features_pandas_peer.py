#!/usr/bin/env python3
"""Offline point-in-time join benchmark (issue 6), the pandas peer: merge_asof of the
generator's entity rows against its feature rows, the sorts merge_asof needs included.
Loading the CSV files is not timed; the join and its materialized DataFrame are.
Usage: features_pandas_peer.py DATA_DIR OUT_CSV [REPEAT=3]
Prints one JSON line: {"system":"pandas","median_s":...,"runs_s":[...],...}."""
import json
import statistics
import sys
import time

import pandas as pd


def main():
    data, out, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 3
    features = pd.read_csv(f"{data}/features.csv", float_precision="round_trip",
                           dtype={"f9": "string"})
    entities = pd.read_csv(f"{data}/entity_rows.csv")
    runs = []
    result = None
    for _ in range(repeat):
        result = None
        start = time.perf_counter()
        left = entities.sort_values("ts", kind="stable")
        right = features.drop(columns=["created_ts"]).sort_values("event_ts", kind="stable")
        result = pd.merge_asof(left, right, left_on="ts", right_on="event_ts", by="driver_id",
                               direction="backward", allow_exact_matches=True)
        runs.append(time.perf_counter() - start)
    result.drop(columns=["event_ts"]).to_csv(out, index=False)
    print(json.dumps({"system": "pandas", "version": pd.__version__,
                      "median_s": statistics.median(runs), "runs_s": runs,
                      "entity_rows": len(entities), "feature_rows": len(features),
                      "matched": int(result["f0"].notna().sum())}))


if __name__ == "__main__":
    main()
