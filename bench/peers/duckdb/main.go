// Command duckdb-report computes the peer benchmark's figures from a sacct
// dump with DuckDB: SQL over the file as it is, no loading step. It prints
// the same lines as the pandas script and the extraction of scmon's JSON
// in scripts/bench-peers.sh, so that the three can be compared exactly.
//
// Usage:
//
//	duckdb-report DUMP CAPACITY_CORES FROM TO
//
// FROM and TO are wall-clock times of the dump's zone ("2026-10-01
// 00:00:00"); the zone of the sample has no daylight-saving time, so
// differences of wall-clock times are durations.
package main

import (
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2"
)

// The classes of the peer rules (bench/peers/rules.yaml), first match wins.
const (
	inference = `(?i)infer|vllm|serve|mindie|eval`
	inferName = `(?i)infer|vllm|serve|mindie|eval|推理`
	training  = `(?i)train|torchrun|deepspeed|finetune|sft`
	trainName = `(?i)train|torchrun|deepspeed|finetune|sft|训练`
)

const query = `
WITH alloc AS (
  SELECT
    split_part(State, ' ', 1) AS st,
    try_strptime(Start, '%Y-%m-%dT%H:%M:%S') AS s,
    try_strptime("End", '%Y-%m-%dT%H:%M:%S') AS e,
    CAST(coalesce(NCPUS, '0') AS BIGINT) AS cores,
    JobID, NodeList,
    coalesce(JobName, '') AS name, coalesce(SubmitLine, '') AS cmd
  FROM read_csv($1, delim = '|', header = true, quote = '', escape = '',
                all_varchar = true, auto_detect = false,
                columns = {COLUMNS})
  WHERE NOT contains(JobID, '.')
), ran AS (
  SELECT cores,
    CASE
      WHEN regexp_matches(cmd, $4) OR regexp_matches(name, $5) THEN 'ai_inference'
      WHEN regexp_matches(cmd, $6) OR regexp_matches(name, $7) THEN 'ai_training'
      ELSE 'other'
    END AS cls,
    greatest(epoch(s), epoch($2::TIMESTAMP)) AS a,
    least(CASE WHEN e IS NULL OR st IN ('RUNNING', 'SUSPENDED') THEN epoch($3::TIMESTAMP) ELSE epoch(e) END,
          epoch($3::TIMESTAMP)) AS b
  FROM alloc
  WHERE s IS NOT NULL AND st <> 'PENDING' AND NOT contains(JobID, '[')
    AND coalesce(NodeList, '') <> 'None assigned'
)
SELECT cls, sum(cores * CAST(greatest(b - a, 0) AS BIGINT)) FROM ran GROUP BY cls`

// sacctColumns is the header of the sample log, every column as text.
var sacctColumns = []string{
	"JobID", "JobIDRaw", "Cluster", "Partition", "QOS", "Account", "User", "Group",
	"Submit", "Eligible", "Start", "End", "Elapsed", "Timelimit", "State", "ExitCode",
	"NNodes", "NCPUS", "ReqTRES", "AllocTRES", "NodeList", "WCKey", "WorkDir",
	"Comment", "JobName", "SubmitLine",
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "duckdb-report:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("usage: duckdb-report DUMP CAPACITY_CORES FROM TO")
	}
	capCores, err := strconv.ParseInt(args[1], 10, 64)
	if err != nil {
		return fmt.Errorf("capacity cores: %w", err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	var cols []string
	for _, c := range sacctColumns {
		cols = append(cols, fmt.Sprintf("'%s': 'VARCHAR'", c))
	}
	q := strings.Replace(query, "{COLUMNS}", "{"+strings.Join(cols, ", ")+"}", 1)
	rows, err := db.Query(q, args[0], args[2], args[3], inference, inferName, training, trainName)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	byClass := map[string]int64{}
	for rows.Next() {
		var cls string
		var sec sql.NullInt64
		if err := rows.Scan(&cls, &sec); err != nil {
			return err
		}
		byClass[cls] = sec.Int64
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var from, to int64
	if from, err = epoch(db, args[2]); err != nil {
		return err
	}
	if to, err = epoch(db, args[3]); err != nil {
		return err
	}
	alloc := byClass["ai_training"] + byClass["ai_inference"] + byClass["other"]
	capacity := capCores * (to - from)
	fmt.Printf("capacity_core_seconds %d\n", capacity)
	fmt.Printf("allocated_core_seconds %d\n", alloc)
	fmt.Printf("ai_training_core_seconds %d\n", byClass["ai_training"])
	fmt.Printf("ai_inference_core_seconds %d\n", byClass["ai_inference"])
	fmt.Printf("other_core_seconds %d\n", byClass["other"])
	fmt.Printf("utilization %.9f\n", float64(alloc)/float64(capacity))
	fmt.Printf("ai_share %.9f\n", float64(byClass["ai_training"]+byClass["ai_inference"])/float64(alloc))
	return nil
}

func epoch(db *sql.DB, ts string) (int64, error) {
	var v int64
	err := db.QueryRow("SELECT CAST(epoch($1::TIMESTAMP) AS BIGINT)", ts).Scan(&v)
	return v, err
}
