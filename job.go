package switchboard

import (
	"encoding/json"
	"strings"
	"time"
)

// Job states. A job is queued until a worker claims it (running, with a lease); a finished job is
// deleted, and one whose last attempt failed stays dead, visible to admins. A running job whose lease
// expired (its worker stopped) is taken again by another worker, or buried (dead) when that was its
// last attempt.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDead    = "dead"
)

// DefaultMaxAttempts is how often a job is tried before it is dead.
const DefaultMaxAttempts = 8

// Job is a durable unit of background work. Jobs with the same Key run one at a time, in ID order,
// so one conversation's work never interleaves.
type Job struct {
	ID          int64           `json:"id"`
	Kind        string          `json:"kind"`
	Key         string          `json:"key"`
	Payload     json.RawMessage `json:"payload"`
	State       string          `json:"state"`
	RunAt       time.Time       `json:"run_at"`
	Attempts    int             `json:"attempts"`
	MaxAttempts int             `json:"max_attempts"`
	LeaseUntil  *time.Time      `json:"lease_until"`
	LeasedBy    string          `json:"leased_by,omitempty"`
	LastError   string          `json:"last_error,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	// FinishedAt is when a dead job failed for the last time.
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// Validate checks the job's fields.
func (j *Job) Validate() error {
	var p Problems
	p.Check(strings.TrimSpace(j.Kind) != "" && len(j.Kind) <= 64, "kind", "Kind is required (at most 64 characters).")
	p.Check(len(j.Key) <= 200, "key", "Key must be at most 200 characters.")
	p.Check(len(j.Payload) == 0 || json.Valid(j.Payload), "payload", "Payload must be JSON.")
	p.Check(j.MaxAttempts >= 1 && j.MaxAttempts <= 100, "max_attempts", "Max attempts must be between 1 and 100.")
	return p.Err()
}
