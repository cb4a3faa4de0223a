-- +goose Up
-- The job claim as a function, so that it is always planned with index scans. The jobs table is empty
-- most of the time; when autovacuum analyzes it then, a plan cached for the claim would read the
-- whole table for every row (an anti-join of two sequential scans), which melts down the moment a
-- backlog forms. enable_seqscan = off, set for the function alone, keeps the claim on its indexes
-- whatever the statistics say, and "the job is its key's first unfinished one" is a lookup of that
-- key's first job in jobs_key_idx rather than an anti-join the planner could run as a full scan.
-- +goose StatementBegin
CREATE FUNCTION switchboard_claim_job(p_lease_until TIMESTAMPTZ, p_worker TEXT, p_now TIMESTAMPTZ)
RETURNS SETOF jobs LANGUAGE plpgsql SET enable_seqscan = off AS $$
BEGIN
    RETURN QUERY
    UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = p_lease_until, leased_by = p_worker, updated_at = p_now
    WHERE id = COALESCE(
        (SELECT x.id FROM jobs x WHERE x.state = 'running' AND x.lease_until < p_now ORDER BY x.lease_until LIMIT 1 FOR UPDATE SKIP LOCKED),
        (SELECT j.id FROM jobs j WHERE j.state = 'queued' AND j.run_at <= p_now
           AND NOT (j.key <> '' AND EXISTS (SELECT 1 FROM jobs p WHERE p.key = j.key AND p.id + 0 < j.id AND p.state IN ('queued', 'running')))
         ORDER BY j.run_at, j.id LIMIT 1 FOR UPDATE SKIP LOCKED))
    RETURNING *;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION switchboard_claim_job(TIMESTAMPTZ, TEXT, TIMESTAMPTZ);
