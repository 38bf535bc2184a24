package web

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"

	"parley/node"
)

// NodeHost serves guests from a node: HostGuest admits them (docs/guests.md).
func NodeHost(n *node.Node) Host { return nodeHost{n} }

type nodeHost struct{ *node.Node }

func (h nodeHost) Team() bool { return h.Self().Team != "" }

func (h nodeHost) Admit(ctx context.Context, j Join) (Guest, error) {
	g, err := h.HostGuest(ctx, node.GuestJoin{Seed: j.Seed, Name: j.Name, Passphrase: j.Passphrase, From: j.From})
	switch {
	case err == nil:
		return nodeGuest{g}, nil
	case errors.Is(err, node.ErrGuestRefused):
		return nil, errors.New("the host said no")
	case errors.Is(err, node.ErrGuestsOff):
		return nil, errors.New("this host takes no guests")
	case errors.Is(err, node.ErrGuestsFull):
		return nil, errors.New("this host has as many guests as it takes")
	case errors.Is(err, node.ErrGuestPassphrase):
		return nil, errors.New("wrong team passphrase")
	case ctx.Err() != nil:
		return nil, errors.New("gave up waiting")
	}
	return nil, err
}

type nodeGuest struct{ *node.Guest }

func (g nodeGuest) Node() GuestNode { return g.Guest.Node() }

// Start serves the guest page of n on addr (a --web value) until ctx ends; it
// logs rather than fails, since the node runs on without its page.
func Start(ctx context.Context, n *node.Node, addr, dataDir string, log *slog.Logger) {
	lns, err := Listen(addr, n.Self().Addrs)
	if len(lns) == 0 {
		log.Warn("guest page off: cannot listen", "addr", addr, "err", err)
		return
	}
	if err != nil {
		log.Warn("guest page: some addresses cannot be bound", "err", err)
	}
	s := New(NodeHost(n), Options{UploadDir: filepath.Join(dataDir, "web-uploads"), Log: log})
	for _, ln := range lns {
		log.Info("guest page", "url", "https://"+ln.Addr().String()+"/", "fingerprint", n.WebFingerprint())
	}
	if err := s.Serve(ctx, lns); err != nil {
		log.Warn("guest page stopped", "err", err)
	}
}
