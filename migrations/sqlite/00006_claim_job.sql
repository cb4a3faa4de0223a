-- +goose Up
-- PostgreSQL's version of this migration wraps the job claim in a function with its own planner
-- settings; SQLite plans the claim statement directly (store/jobs.go), so there is nothing to do here.
SELECT 1;

-- +goose Down
SELECT 1;
