// Package web is the guest skin: an HTTPS server that hands a browser a small
// app (static/, embedded) and, once the host admits the guest, a headless
// session of the guest's own node over a WebSocket (docs/guests.md).
//
// A guest is a child node the host runs for it (node.HostGuest): the browser
// keeps only a 32-byte seed and a display name. Everything the browser sends is
// hostile until checked: the socket's origin, each message's size (64 KiB), the
// commands it may run (an allow-list), their rate (token buckets per guest), the
// bytes it uploads (a cap and a byte rate), and the join attempts per address.
package web

import (
	"context"
	"crypto/tls"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"parley/headless"
	"parley/node"
)

// Host is the node that serves guests (*node.Node through NodeHost).
type Host interface {
	Self() node.Ready
	WebCertificate() (tls.Certificate, error)
	// Admit admits a guest (asking the user when the host is set to "ask") and
	// returns its running node; an error's text is the refusal shown to the guest.
	Admit(ctx context.Context, j Join) (Guest, error)
	// Team reports whether the host is in a closed team (a guest needs the passphrase).
	Team() bool
}

// Join is what a browser sends to join.
type Join struct {
	Seed       []byte
	Name       string
	Passphrase string
	From       string // the browser's address
}

// Guest is an admitted guest's running node.
type Guest interface {
	ID() string
	Node() GuestNode
	// Events is this attachment's own stream of the node's events (two pages
	// of one guest, a reload overlapping, each see every event).
	Events() <-chan node.Event
	// Detach: the browser went away (the host keeps the guest a grace period).
	Detach()
}

// GuestNode is what a guest's browser drives: the headless protocol, with
// calls, files and trust decisions.
type GuestNode interface {
	headless.Node
	headless.Caller
	headless.FileSharer
	headless.Truster
}

// MediaConnector is the optional part of a GuestNode that bridges the
// browser's WebRTC audio into the node's calls (node.ConnectMedia).
type MediaConnector interface {
	ConnectMedia(ctx context.Context, offerSDP string) (string, error)
	DisconnectMedia()
}

// Options bound the server; zero values take the defaults below.
type Options struct {
	// UploadDir holds the files guests upload (one folder per guest) until they
	// are sent: the child node reads them from there.
	UploadDir string
	Log       *slog.Logger
	// Limits override the rate limits (tests).
	Limits Limits
}

// Server serves the guest app and its sessions.
type Server struct {
	host   Host
	opts   Options
	log    *slog.Logger
	lim    Limits
	joins  *perKey // join attempts per source address
	static fs.FS

	mu       sync.Mutex
	sessions map[string]*session // by token
	bridges  map[string]*session // by guest ID: the page whose bridge is connected
	stats    sync.Map            // counter name → *atomic.Uint64
}

// New makes a server for host.
func New(host Host, opts Options) *Server {
	lim := opts.Limits.withDefaults()
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	if opts.UploadDir != "" {
		go sweepUploads(opts.UploadDir, time.Now())
	}
	return &Server{host: host, opts: opts, log: log.With("part", "web"), lim: lim,
		joins: newPerKey(lim.JoinsPerMinute/60, lim.JoinBurst, 4096), static: staticFS(),
		sessions: map[string]*session{}, bridges: map[string]*session{}}
}

// Handler routes the app, the API and the socket, with the security headers.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/info", s.info)
	mux.HandleFunc("GET /ws", s.socket)
	mux.HandleFunc("POST /api/upload", s.upload)
	mux.HandleFunc("GET /api/file/{id}", s.download)
	mux.Handle("GET /", http.FileServerFS(s.static))
	return secure(mux)
}

// Serve serves HTTPS on every listener until ctx ends.
func (s *Server) Serve(ctx context.Context, lns []net.Listener) error {
	cert, err := s.host.WebCertificate()
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: s.Handler(),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
			// No HTTP/2: the socket upgrade (coder/websocket) is HTTP/1.1, and a
			// guest page needs nothing HTTP/2 adds.
			NextProtos: []string{"http/1.1"}},
		// Header and idle bounds keep a slow or silent client from holding a
		// connection; bodies (uploads) are bounded by their own rate and cap.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errs := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { errs <- srv.ServeTLS(ln, "", "") }()
	}
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	srv.Shutdown(shut)
	s.closeSessions()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Stats are the server's counters: drops and refusals by cause.
func (s *Server) Stats() map[string]uint64 {
	out := map[string]uint64{}
	s.stats.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Uint64).Load()
		return true
	})
	return out
}

func (s *Server) count(name string) {
	v, _ := s.stats.LoadOrStore(name, new(atomic.Uint64))
	v.(*atomic.Uint64).Add(1)
}

// info is what the join page shows before joining: whose page this is.
func (s *Server) info(w http.ResponseWriter, r *http.Request) {
	self := s.host.Self()
	writeJSON(w, http.StatusOK, map[string]any{"name": self.Name, "id": self.ID,
		"fingerprint": self.WebFingerprint, "safety": self.Fingerprint, "team": s.host.Team()})
}
