package overlay

import (
	"context"
	"fmt"

	"parley/identity"
)

// SendBulkDirect queues a bulk frame (typ >= FirstBulkType) on the direct link to
// dst, waiting for room on its bulk lane until ctx ends. Unlike SendBulk it never
// routes: it returns ErrNoLink when there is no direct link, so a payload that is
// safe only inside one TLS link (file data sent in the clear) cannot reach a relay.
func (o *Overlay) SendBulkDirect(ctx context.Context, dst identity.PeerID, typ uint8, payload []byte) error {
	if typ < FirstBulkType {
		return fmt.Errorf("frame type %d is not a bulk type", typ)
	}
	l := o.Link(dst)
	if l == nil {
		return ErrNoLink
	}
	return l.sendBulk(ctx, typ, payload, true)
}
