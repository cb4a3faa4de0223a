package store

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// slowQuery is the duration above which a statement is logged as slow.
const slowQuery = 500 * time.Millisecond

// gormLogger sends GORM's messages to slog: slow statements as warnings and unexpected errors at
// debug level (callers log what matters once, with the request id).
type gormLogger struct{ log *slog.Logger }

func newGormLogger(l *slog.Logger) logger.Interface { return gormLogger{log: l} }

func (g gormLogger) LogMode(logger.LogLevel) logger.Interface { return g }
func (g gormLogger) Info(ctx context.Context, msg string, args ...any) {
	g.log.DebugContext(ctx, "gorm: "+msg, "args", args)
}
func (g gormLogger) Warn(ctx context.Context, msg string, args ...any) {
	g.log.WarnContext(ctx, "gorm: "+msg, "args", args)
}
func (g gormLogger) Error(ctx context.Context, msg string, args ...any) {
	g.log.DebugContext(ctx, "gorm: "+msg, "args", args)
}

func (g gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	switch {
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && g.log.Enabled(ctx, slog.LevelDebug):
		sql, rows := fc()
		g.log.DebugContext(ctx, "sql error", "err", err, "sql", sql, "rows", rows, "elapsed", elapsed)
	case elapsed > slowQuery:
		sql, rows := fc()
		g.log.WarnContext(ctx, "slow sql", "sql", sql, "rows", rows, "elapsed", elapsed)
	}
}
