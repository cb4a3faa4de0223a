package store

import (
	"context"

	"gorm.io/gorm"

	"switchboard"
)

// InTxForTest exposes the transaction helper to the store's external tests.
func (s *Store) InTxForTest(ctx context.Context, fn func(ctx context.Context, tx *gorm.DB) error) error {
	return s.inTx(ctx, fn)
}

// EnqueueJobTx exposes enqueueing inside a caller's transaction to the store's external tests.
func (s *Store) EnqueueJobTx(ctx context.Context, tx *gorm.DB, j *switchboard.Job) error {
	return s.enqueueJob(ctx, tx, j)
}
