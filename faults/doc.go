// Package faults holds Switchboard's fault suite, as tests: each builds the real binary, runs it as a
// child process under load from the load generator (cmd/loadgen/load), breaks something, and checks
// what the database holds against what the server acknowledged.
//
//	kill -9 during load (SQLite, PostgreSQL) → every 200-acked webhook stored once, its job run
//	Graph API down                          → every queued reply delivered once, in order
//	PostgreSQL restarted during load        → the server recovers alone; no 200 for a lost webhook
//
// `go test ./faults/` is the short form (a few cycles; scripts/test.sh runs it). FAULTS_LONG=1 is the
// long form that scripts/faults.sh runs: at least ten kill -9 cycles per database, a 30-second Graph
// API outage and repeated PostgreSQL restarts. PostgreSQL cases need TEST_DATABASE_URL (and, for the
// restarts, the PostgreSQL binaries to run a private cluster); without it they are skipped, except
// under CI, where that is a failure.
package faults
