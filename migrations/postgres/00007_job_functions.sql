-- +goose Up
-- Completing a job, and the idle workers' "when is the next job due?", as functions for the same two
-- reasons as the claim (00006): they keep to their indexes whatever the statistics of a table that is
-- usually empty say, and each is one round trip instead of two.
-- +goose StatementBegin
CREATE FUNCTION switchboard_complete_job(p_id BIGINT, p_worker TEXT, p_attempts INTEGER)
RETURNS TABLE (completed BOOLEAN, key_has_next BOOLEAN) LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
    v_key TEXT;
BEGIN
    DELETE FROM jobs WHERE id = p_id AND state = 'running' AND leased_by = p_worker AND attempts = p_attempts
    RETURNING jobs.key INTO v_key;
    IF NOT FOUND THEN
        RETURN QUERY SELECT false, false;
        RETURN;
    END IF;
    RETURN QUERY SELECT true, v_key <> '' AND EXISTS (SELECT 1 FROM jobs j WHERE j.key = v_key AND j.state = 'queued');
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION switchboard_next_job_at(p_now TIMESTAMPTZ)
RETURNS TIMESTAMPTZ LANGUAGE plpgsql STABLE SET enable_seqscan = off AS $$
BEGIN
    -- PL/pgSQL keeps the plan for the session; a LANGUAGE sql function with SET is planned per call.
    RETURN LEAST(
        (SELECT run_at FROM jobs WHERE state = 'queued' AND run_at > p_now ORDER BY run_at LIMIT 1),
        (SELECT lease_until FROM jobs WHERE state = 'running' AND lease_until > p_now ORDER BY lease_until LIMIT 1));
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION switchboard_next_job_at(TIMESTAMPTZ);
DROP FUNCTION switchboard_complete_job(BIGINT, TEXT, INTEGER);
