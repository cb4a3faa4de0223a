-- +goose Up
-- PostgreSQL's version of this migration adds functions for completing a job and for the next due
-- job; SQLite runs those statements directly (store/jobs.go), so there is nothing to do here.
SELECT 1;

-- +goose Down
SELECT 1;
