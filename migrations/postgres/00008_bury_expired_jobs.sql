-- +goose Up
-- A job whose worker keeps dying (out of memory, killed, a panic outside the handler) never reports a
-- failure, so only its expired lease counts its attempts. The claim used to take such a job over
-- whatever its attempts, forever, and it blocked every later job of its key. Now a claim that finds
-- an expired job which has used all its attempts buries it instead: dead (finished, lease cleared,
-- attempts unchanged, last_error saying why) and returned, so that the caller reports it rather than
-- run it (store/jobs.go ClaimJob). The rest is 00006's claim: the same choice, FOR UPDATE SKIP LOCKED,
-- one round trip, kept on its indexes by enable_seqscan = off.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION switchboard_claim_job(p_lease_until TIMESTAMPTZ, p_worker TEXT, p_now TIMESTAMPTZ)
RETURNS SETOF jobs LANGUAGE plpgsql SET enable_seqscan = off AS $$
BEGIN
    -- Each SET expression reads the row as it was, so "exhausted" means the same in all of them.
    RETURN QUERY
    UPDATE jobs SET
        state       = CASE WHEN state = 'running' AND attempts >= max_attempts THEN 'dead' ELSE 'running' END,
        attempts    = CASE WHEN state = 'running' AND attempts >= max_attempts THEN attempts ELSE attempts + 1 END,
        lease_until = CASE WHEN state = 'running' AND attempts >= max_attempts THEN NULL ELSE p_lease_until END,
        leased_by   = CASE WHEN state = 'running' AND attempts >= max_attempts THEN leased_by ELSE p_worker END,
        finished_at = CASE WHEN state = 'running' AND attempts >= max_attempts THEN p_now ELSE finished_at END,
        last_error  = CASE WHEN state = 'running' AND attempts >= max_attempts THEN
                          CASE WHEN last_error = '' THEN
                              'lease expired ' || attempts || ' times: its worker stopped (crash, kill or lost connection) before finishing each attempt'
                          ELSE
                              'lease expired on the last attempt (' || attempts || ' of ' || max_attempts ||
                              '): its worker stopped (crash, kill or lost connection) before finishing; earlier: ' || substr(last_error, 1, 1500)
                          END
                      ELSE last_error END,
        updated_at  = p_now
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
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION switchboard_claim_job(p_lease_until TIMESTAMPTZ, p_worker TEXT, p_now TIMESTAMPTZ)
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
