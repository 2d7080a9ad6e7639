"""Peer benchmark: the figures of scripts/bench-peers.sh computed with pandas.

Reads a sacct dump (the replicated sample log) with pandas' C parser and
computes, vectorized, the allocated core-seconds of the window by class
(the peer rules of bench/peers/rules.yaml: first match wins), utilization
and AI share. It prints the same lines as bench/peers/duckdb and the
extraction of scmon's JSON, so that the three can be compared exactly.

Usage: python3 pandas_report.py DUMP CAPACITY_CORES FROM TO
FROM and TO are wall-clock times of the dump's zone ("2026-10-01 00:00:00").
"""

import csv
import re
import sys

import numpy as np
import pandas as pd

INFERENCE = re.compile(r"infer|vllm|serve|mindie|eval", re.IGNORECASE)
INFER_NAME = re.compile(r"infer|vllm|serve|mindie|eval|推理", re.IGNORECASE)
TRAINING = re.compile(r"train|torchrun|deepspeed|finetune|sft", re.IGNORECASE)
TRAIN_NAME = re.compile(r"train|torchrun|deepspeed|finetune|sft|训练", re.IGNORECASE)
COLUMNS = ["JobID", "State", "Start", "End", "NCPUS", "NodeList", "JobName", "SubmitLine"]
LAYOUT = "%Y-%m-%dT%H:%M:%S"


def main(argv):
    path, cap_cores, frm, to = argv[1], int(argv[2]), argv[3], argv[4]
    frm_s = pd.Timestamp(frm).value // 10**9
    to_s = pd.Timestamp(to).value // 10**9
    df = pd.read_csv(path, sep="|", usecols=COLUMNS, dtype=str, quoting=csv.QUOTE_NONE,
                     keep_default_na=False, na_filter=False, engine="c")
    df = df[~df["JobID"].str.contains(".", regex=False)]
    state = df["State"].str.split(" ", n=1).str[0]
    start = pd.to_datetime(df["Start"], format=LAYOUT, errors="coerce")
    end = pd.to_datetime(df["End"], format=LAYOUT, errors="coerce")
    started = (start.notna() & (state != "PENDING")
               & ~df["JobID"].str.contains("[", regex=False)
               & (df["NodeList"] != "None assigned"))
    open_end = end.isna() | state.isin(["RUNNING", "SUSPENDED"])
    a = np.maximum(start.to_numpy(dtype="datetime64[s]").astype(np.int64), frm_s)
    b = np.where(open_end.to_numpy(), to_s,
                 end.to_numpy(dtype="datetime64[s]").astype(np.int64))
    b = np.minimum(b, to_s)
    sec = np.where(started.to_numpy(), np.maximum(b - a, 0), 0)
    core_sec = df["NCPUS"].astype(np.int64).to_numpy() * sec
    cmd, name = df["SubmitLine"], df["JobName"]
    inf = (cmd.str.contains(INFERENCE) | name.str.contains(INFER_NAME)).to_numpy()
    trn = (cmd.str.contains(TRAINING) | name.str.contains(TRAIN_NAME)).to_numpy() & ~inf
    by_class = {
        "ai_training": int(core_sec[trn].sum()),
        "ai_inference": int(core_sec[inf].sum()),
        "other": int(core_sec[~inf & ~trn].sum()),
    }
    alloc = sum(by_class.values())
    capacity = cap_cores * (to_s - frm_s)
    print(f"capacity_core_seconds {capacity}")
    print(f"allocated_core_seconds {alloc}")
    for cls in ("ai_training", "ai_inference", "other"):
        print(f"{cls}_core_seconds {by_class[cls]}")
    print(f"utilization {alloc / capacity:.9f}")
    print(f"ai_share {(by_class['ai_training'] + by_class['ai_inference']) / alloc:.9f}")


if __name__ == "__main__":
    main(sys.argv)
