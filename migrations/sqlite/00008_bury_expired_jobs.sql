-- +goose Up
-- PostgreSQL's version of this migration replaces its claim function so that an expired job which
-- has used all its attempts is buried (dead) instead of taken over again; SQLite runs the claim
-- statement directly (store/jobs.go), so there is nothing to do here.
SELECT 1;

-- +goose Down
SELECT 1;
