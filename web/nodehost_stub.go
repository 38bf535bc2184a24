//go:build !guestapi

package web

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"

	"parley/node"
)

// TEMPORARY until node.HostGuest lands: refuses every guest.
type stubHost struct{ *node.Node }

func (h stubHost) Team() bool { return h.Self().Team != "" }
func (h stubHost) Admit(ctx context.Context, j Join) (Guest, error) {
	return nil, errors.New("guests are not implemented yet")
}

func Start(ctx context.Context, n *node.Node, addr, dataDir string, log *slog.Logger) {
	lns, err := Listen(addr, n.Self().Addrs)
	if len(lns) == 0 {
		log.Warn("guest page off: cannot listen", "addr", addr, "err", err)
		return
	}
	s := New(stubHost{n}, Options{UploadDir: filepath.Join(dataDir, "web-uploads"), Log: log})
	s.Serve(ctx, lns)
}
