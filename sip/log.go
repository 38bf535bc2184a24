package sip

import (
	"context"
	"log/slog"
)

// quiet is a slog handler that logs every record at debug level: sipgo
// reports each malformed datagram at error level with its content, which
// would let anyone on the LAN fill the node's log (they are counted
// instead, and visible with --log-level debug).
type quiet struct{ slog.Handler }

func (q quiet) Enabled(ctx context.Context, _ slog.Level) bool {
	return q.Handler.Enabled(ctx, slog.LevelDebug)
}

func (q quiet) Handle(ctx context.Context, r slog.Record) error {
	r.Level = slog.LevelDebug
	return q.Handler.Handle(ctx, r)
}

func (q quiet) WithAttrs(a []slog.Attr) slog.Handler { return quiet{q.Handler.WithAttrs(a)} }
func (q quiet) WithGroup(g string) slog.Handler      { return quiet{q.Handler.WithGroup(g)} }
