package webbridge

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// pionLogs routes pion's logs into slog at debug level, as media/relay does
// for its TURN server: pion logs malformed STUN, SRTP and RTCP from the page
// as errors, and those are the page's doing, so they must not reach the
// host's log (or stderr, pion's default) at default levels. What matters to
// the host the bridge counts in Stats.
type pionLogs struct{ log *slog.Logger }

func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{f.log.With("pion", scope)}
}

type pionLogger struct{ log *slog.Logger }

func (l pionLogger) emit(level, msg string) { l.log.Debug(msg, "pion_level", level) }

// emitf formats only when debug is on: pion calls Debugf per packet.
func (l pionLogger) emitf(level, format string, args ...any) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.emit(level, fmt.Sprintf(format, args...))
	}
}

func (l pionLogger) Trace(string)              {}
func (l pionLogger) Tracef(string, ...any)     {}
func (l pionLogger) Debug(msg string)          { l.emit("debug", msg) }
func (l pionLogger) Debugf(f string, a ...any) { l.emitf("debug", f, a...) }
func (l pionLogger) Info(msg string)           { l.emit("info", msg) }
func (l pionLogger) Infof(f string, a ...any)  { l.emitf("info", f, a...) }
func (l pionLogger) Warn(msg string)           { l.emit("warn", msg) }
func (l pionLogger) Warnf(f string, a ...any)  { l.emitf("warn", f, a...) }
func (l pionLogger) Error(msg string)          { l.emit("error", msg) }
func (l pionLogger) Errorf(f string, a ...any) { l.emitf("error", f, a...) }
