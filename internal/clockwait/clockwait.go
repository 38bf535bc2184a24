// Package clockwait waits on the wall clock without outliving a context.
//
// It is the one copy of the sleep that overlay, node, discovery and the
// integration tests each used to carry: a background loop paces itself with
// Sleep and returns as soon as its context ends instead of finishing the nap.
// It imports nothing of the project, so any package can use it.
package clockwait

import (
	"context"
	"time"
)

// Sleep waits for d or until ctx is done, whichever comes first, and reports
// whether the full d passed with ctx still live. A d ≤ 0 does not wait: it
// reports only whether ctx is still live.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
