// Package pionlog routes pion's logs into slog, all at debug level. pion logs every
// refused or malformed packet or request as an error, and those are the doing of
// whoever can send a datagram (a stranger to the TURN relay, a browser page to its
// audio bridge), so they must not reach a user's log (or stderr, pion's default)
// at default levels. What matters to an operator the callers count and log
// themselves.
package pionlog

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// Factory is a pion logging.LoggerFactory writing to Log.
type Factory struct{ Log *slog.Logger }

// NewLogger returns the logger of one pion scope (ice, dtls, turn, …).
func (f Factory) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{f.Log.With("pion", scope)}
}

type pionLogger struct{ log *slog.Logger }

func (l pionLogger) emit(level, msg string) {
	l.log.Debug(msg, "pion_level", level)
}

// emitf formats only when debug is on: pion calls Debugf for every packet.
func (l pionLogger) emitf(level, format string, args ...any) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.emit(level, fmt.Sprintf(format, args...))
	}
}

func (l pionLogger) Trace(string)          {}
func (l pionLogger) Tracef(string, ...any) {}
func (l pionLogger) Debug(msg string)      { l.emit("debug", msg) }
func (l pionLogger) Debugf(f string, a ...any) {
	l.emitf("debug", f, a...)
}
func (l pionLogger) Info(msg string)           { l.emit("info", msg) }
func (l pionLogger) Infof(f string, a ...any)  { l.emitf("info", f, a...) }
func (l pionLogger) Warn(msg string)           { l.emit("warn", msg) }
func (l pionLogger) Warnf(f string, a ...any)  { l.emitf("warn", f, a...) }
func (l pionLogger) Error(msg string)          { l.emit("error", msg) }
func (l pionLogger) Errorf(f string, a ...any) { l.emitf("error", f, a...) }
