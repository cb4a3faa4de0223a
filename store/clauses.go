package store

import "gorm.io/gorm/clause"

// forUpdate locks the selected rows until the transaction ends (PostgreSQL; SQLite's BEGIN IMMEDIATE
// already serialises writers, and GORM drops the clause there).
func forUpdate() clause.Expression { return clause.Locking{Strength: clause.LockingStrengthUpdate} }

// forUpdateSkipLocked locks the selected rows and skips rows other transactions hold (PostgreSQL).
func forUpdateSkipLocked() clause.Expression {
	return clause.Locking{Strength: clause.LockingStrengthUpdate, Options: clause.LockingOptionsSkipLocked}
}
