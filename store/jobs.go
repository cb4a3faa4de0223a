package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"gorm.io/gorm"

	"switchboard"
)

type jobRow struct {
	ID          int64
	Kind        string
	Key         string
	Payload     string
	State       string
	RunAt       time.Time
	Attempts    int
	MaxAttempts int
	LeaseUntil  *time.Time
	LeasedBy    string
	LastError   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	FinishedAt  *time.Time
}

func (jobRow) TableName() string { return "jobs" }

func (r *jobRow) toDomain() *switchboard.Job {
	return &switchboard.Job{ID: r.ID, Kind: r.Kind, Key: r.Key, Payload: json.RawMessage(r.Payload), State: r.State,
		RunAt: r.RunAt.UTC(), Attempts: r.Attempts, MaxAttempts: r.MaxAttempts, LeaseUntil: utcPtr(r.LeaseUntil),
		LeasedBy: r.LeasedBy, LastError: r.LastError, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		FinishedAt: utcPtr(r.FinishedAt)}
}

// JobSignal receives one token per job made runnable (enqueued by a commit, rescheduled, or unblocked
// by its key's previous job finishing), without blocking and up to the channel's capacity, so that
// as many idle workers wake as there are jobs to run, at once instead of polling.
func (s *Store) JobSignal() <-chan struct{} { return s.jobSignal }

// jobSignalCapacity bounds the tokens waiting for the runner: beyond it every worker is busy anyway,
// and busy workers claim again as soon as they finish.
const jobSignalCapacity = 64

func (s *Store) signalJobs(n int) {
	for range min(n, jobSignalCapacity) {
		select {
		case s.jobSignal <- struct{}{}:
		default:
			return
		}
	}
}

// EnqueueJob stores a job in its own transaction.
func (s *Store) EnqueueJob(ctx context.Context, j *switchboard.Job) error {
	return s.inTx(ctx, func(ctx context.Context, tx *gorm.DB) error { return s.enqueueJob(ctx, tx, j) })
}

// enqueueJob stores a job inside the caller's transaction, so the job exists exactly when the data it
// concerns does.
func (s *Store) enqueueJob(ctx context.Context, tx *gorm.DB, j *switchboard.Job) error {
	return s.enqueueJobs(ctx, tx, []*switchboard.Job{j})
}

// enqueueJobs stores jobs inside the caller's transaction, with one insert, and fills in their ids and
// defaults.
func (s *Store) enqueueJobs(ctx context.Context, tx *gorm.DB, jobs []*switchboard.Job) error {
	if len(jobs) == 0 {
		return nil
	}
	now := s.now()
	rows := make([]jobRow, len(jobs))
	for i, j := range jobs {
		if j.MaxAttempts == 0 {
			j.MaxAttempts = switchboard.DefaultMaxAttempts
		}
		if len(j.Payload) == 0 {
			j.Payload = json.RawMessage("{}")
		}
		if j.RunAt.IsZero() {
			j.RunAt = now
		}
		if err := j.Validate(); err != nil {
			return err
		}
		rows[i] = jobRow{Kind: j.Kind, Key: j.Key, Payload: string(j.Payload), State: switchboard.JobQueued, RunAt: utc(j.RunAt),
			MaxAttempts: j.MaxAttempts, CreatedAt: now, UpdatedAt: now}
	}
	if err := tx.Create(&rows).Error; err != nil {
		return err
	}
	for i := range rows {
		*jobs[i] = *rows[i].toDomain()
	}
	if st, ok := ctx.Value(txStateKey{}).(*txState); ok {
		st.enqueued += len(jobs)
	}
	return nil
}

// The claim picks the oldest runnable job whose key has no earlier unfinished job, so one key's jobs
// run one at a time and in order. PostgreSQL skips rows other workers are claiming (its copy of these
// statements is the function switchboard_claim_job); SQLite runs one writing statement at a time.
const (
	claimExpired = `SELECT id FROM jobs WHERE state = 'running' AND lease_until < ? ORDER BY lease_until LIMIT 1`
	claimQueued  = `SELECT j.id FROM jobs j WHERE j.state = 'queued' AND j.run_at <= ?
  AND NOT EXISTS (SELECT 1 FROM jobs p WHERE j.key <> '' AND p.key = j.key AND p.id < j.id AND p.state IN ('queued', 'running'))
  ORDER BY j.run_at, j.id LIMIT 1`
	// exhausted is, in the claim's UPDATE, an expired job that has used all its attempts: it is
	// buried rather than leased again. (Each SET expression reads the row as it was.)
	exhausted = `state = 'running' AND attempts >= max_attempts`
	// claimSet leases the chosen job, or buries it; migrations/postgres/00008_bury_expired_jobs.sql
	// holds PostgreSQL's copy.
	claimSet = `state = CASE WHEN ` + exhausted + ` THEN 'dead' ELSE 'running' END,
  attempts = CASE WHEN ` + exhausted + ` THEN attempts ELSE attempts + 1 END,
  lease_until = CASE WHEN ` + exhausted + ` THEN NULL ELSE ? END,
  leased_by = CASE WHEN ` + exhausted + ` THEN leased_by ELSE ? END,
  finished_at = CASE WHEN ` + exhausted + ` THEN ? ELSE finished_at END,
  last_error = CASE WHEN ` + exhausted + ` THEN
      CASE WHEN last_error = '' THEN
        'lease expired ' || attempts || ' times: its worker stopped (crash, kill or lost connection) before finishing each attempt'
      ELSE
        'lease expired on the last attempt (' || attempts || ' of ' || max_attempts ||
        '): its worker stopped (crash, kill or lost connection) before finishing; earlier: ' || substr(last_error, 1, 1500)
      END
    ELSE last_error END,
  updated_at = ?`
)

// ClaimJob leases the next runnable job to worker for lease, or returns nil when none is due. A running
// job whose lease expired (its worker died) is taken over first. It is one statement: the choice and
// the lease are taken together, and finding nothing costs one round trip.
//
// A job whose worker keeps dying (a crash, a kill, running out of memory) never reports a failure, so
// its expired leases are what count its attempts: when the claim finds an expired job that has used
// them all, it buries it instead of taking it over. The job is returned dead (State JobDead, not
// leased, last_error saying its lease expired), so that the caller can make its end visible (e.g. fail
// the message a send job was sending) and claim again; the caller must not run it. Its key's next job
// is runnable from then on.
func (s *Store) ClaimJob(ctx context.Context, worker string, lease time.Duration) (*switchboard.Job, error) {
	now := s.now()
	var rows []jobRow
	var err error
	if s.dialect == "postgres" {
		// The same statement with FOR UPDATE SKIP LOCKED, in a function that keeps it on its indexes
		// (migrations/postgres/00006_claim_job.sql, 00008_bury_expired_jobs.sql).
		err = s.conn(ctx).Raw(`SELECT * FROM switchboard_claim_job(?, ?, ?)`, now.Add(lease), worker, now).Scan(&rows).Error
	} else {
		err = s.conn(ctx).Raw(`UPDATE jobs SET `+claimSet+`
WHERE id = COALESCE((`+claimExpired+`), (`+claimQueued+`)) RETURNING *`, now.Add(lease), worker, now, now, now, now).Scan(&rows).Error
	}
	if err != nil {
		return nil, translate(err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	j := rows[0].toDomain()
	if j.State == switchboard.JobDead && j.Key != "" {
		s.signalJobs(1) // the key's next job, if any, no longer waits for this one
	}
	return j, nil
}

// errLeaseLost is returned when a worker reports on a job whose lease another worker has taken over.
var errLeaseLost = switchboard.Errorf(switchboard.ECONFLICT, "The job's lease was lost to another worker.")

// fenced restricts an update to the lease the caller holds.
func fenced(tx *gorm.DB, j *switchboard.Job) *gorm.DB {
	return tx.Model(&jobRow{}).Where("id = ? AND state = ? AND leased_by = ? AND attempts = ?", j.ID, switchboard.JobRunning, j.LeasedBy, j.Attempts)
}

// CompleteJob deletes a finished job. It fails with ECONFLICT when the lease was lost.
func (s *Store) CompleteJob(ctx context.Context, j *switchboard.Job) error {
	completed, keyHasNext := false, false
	if s.dialect == "postgres" {
		// One round trip, on the indexes (migrations/postgres/00007_job_functions.sql).
		row := s.conn(ctx).Raw(`SELECT completed, key_has_next FROM switchboard_complete_job(?, ?, ?)`, j.ID, j.LeasedBy, j.Attempts).Row()
		if err := row.Scan(&completed, &keyHasNext); err != nil {
			return translate(err)
		}
	} else {
		res := s.conn(ctx).Where("id = ? AND state = ? AND leased_by = ? AND attempts = ?", j.ID, switchboard.JobRunning, j.LeasedBy, j.Attempts).Delete(&jobRow{})
		if res.Error != nil {
			return translate(res.Error)
		}
		completed = res.RowsAffected > 0
		if completed && j.Key != "" {
			var next []int64
			err := s.conn(ctx).Raw(`SELECT id FROM jobs WHERE key = ? AND state = 'queued' LIMIT 1`, j.Key).Scan(&next).Error
			keyHasNext = err == nil && len(next) > 0
		}
	}
	if !completed {
		return errLeaseLost
	}
	// The key's next job can run now: wake a worker, but only if there is one (an empty claim costs
	// more than this look).
	if keyHasNext {
		s.signalJobs(1)
	}
	return nil
}

// FailJob records a failed attempt: the job runs again at retryAt, or is dead when it has used all
// its attempts (or when permanent is set).
func (s *Store) FailJob(ctx context.Context, j *switchboard.Job, reason string, retryAt time.Time, permanent bool) error {
	now := s.now()
	updates := map[string]any{"last_error": truncate(reason, 2000), "lease_until": nil, "updated_at": now}
	if permanent || j.Attempts >= j.MaxAttempts {
		updates["state"] = switchboard.JobDead
		updates["finished_at"] = now
	} else {
		updates["state"] = switchboard.JobQueued
		updates["run_at"] = utc(retryAt)
	}
	res := fenced(s.conn(ctx), j).Updates(updates)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return errLeaseLost
	}
	if updates["state"] == switchboard.JobQueued {
		// The key's later jobs cannot run before this one: they wait for its retry too, rather than
		// be found due, and stepped over as blocked, by every claim until then (a Graph API outage
		// queues replies behind each conversation's failing one, and every claim got slower).
		if j.Key != "" {
			if err := s.conn(ctx).Model(&jobRow{}).Where("key = ? AND state = ? AND id > ? AND run_at < ?", j.Key, switchboard.JobQueued, j.ID, utc(retryAt)).
				Update("run_at", utc(retryAt)).Error; err != nil {
				return translate(err)
			}
		}
		s.signalJobs(1)
	} else if j.Key != "" {
		s.signalJobs(1) // the key's next job, if any, no longer waits for this one
	}
	return nil
}

// ExtendLease keeps a long job leased to its worker until now+lease.
func (s *Store) ExtendLease(ctx context.Context, j *switchboard.Job, lease time.Duration) error {
	until := s.now().Add(lease)
	res := fenced(s.conn(ctx), j).Updates(map[string]any{"lease_until": until, "updated_at": s.now()})
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return errLeaseLost
	}
	j.LeaseUntil = &until
	return nil
}

// NextJobAt returns when a waiting job next becomes due: a retry's run_at still in the future, or a
// lease expiry. Due jobs that wait behind a running job of their key are not counted: finishing that
// job signals the workers. ok is false when nothing is scheduled.
func (s *Store) NextJobAt(ctx context.Context) (at time.Time, ok bool, err error) {
	now := s.now()
	if s.dialect == "postgres" {
		// One round trip, on the indexes (migrations/postgres/00007_job_functions.sql).
		var next sql.NullTime
		if err := s.conn(ctx).Raw(`SELECT switchboard_next_job_at(?)`, now).Row().Scan(&next); err != nil {
			return time.Time{}, false, translate(err)
		}
		return next.Time.UTC(), next.Valid, nil
	}
	// Two ordered single-column reads rather than MIN(): SQLite keeps the column's declared type (and
	// so its time decoding) only for plain column references.
	for _, q := range []string{
		`SELECT run_at FROM jobs WHERE state = 'queued' AND run_at > ? ORDER BY run_at LIMIT 1`,
		`SELECT lease_until FROM jobs WHERE state = 'running' AND lease_until > ? ORDER BY lease_until LIMIT 1`,
	} {
		var times []time.Time
		if err := s.conn(ctx).Raw(q, now).Scan(&times).Error; err != nil {
			return time.Time{}, false, translate(err)
		}
		if len(times) > 0 && (!ok || times[0].Before(at)) {
			at, ok = times[0].UTC(), true
		}
	}
	return at, ok, nil
}

// JobFilter selects jobs for ListJobs.
type JobFilter struct {
	State string // queued, running or dead; empty for all
	Kind  string
	Limit int
}

// ListJobs returns jobs, newest first (admins inspect dead ones).
func (s *Store) ListJobs(ctx context.Context, f JobFilter) ([]*switchboard.Job, error) {
	q := s.conn(ctx).Order("id DESC")
	if f.State != "" {
		q = q.Where("state = ?", f.State)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	var rows []jobRow
	if err := q.Limit(f.Limit).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]*switchboard.Job, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// RetryJob puts a dead job back in the queue with fresh attempts.
func (s *Store) RetryJob(ctx context.Context, id int64) error {
	now := s.now()
	res := s.conn(ctx).Model(&jobRow{}).Where("id = ? AND state = ?", id, switchboard.JobDead).
		Updates(map[string]any{"state": switchboard.JobQueued, "attempts": 0, "run_at": now, "updated_at": now, "finished_at": nil})
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("Dead job")
	}
	s.signalJobs(1)
	return nil
}

// Job returns one job.
func (s *Store) Job(ctx context.Context, id int64) (*switchboard.Job, error) {
	var row jobRow
	if err := s.conn(ctx).First(&row, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, notFound("Job")
		}
		return nil, translate(err)
	}
	return row.toDomain(), nil
}
