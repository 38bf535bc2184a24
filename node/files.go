package node

import (
	"fmt"
	"path/filepath"

	"parley/files"
	"parley/identity"
	"parley/selection"
)

// File sharing: the files service over the overlay (see package files).

// FileOffer: a peer offers us a file (accept_file / decline_file).
type FileOffer struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Size uint64 `json:"size"`
	Type string `json:"type,omitempty"` // media type guessed from the name
	From string `json:"from"`
	Room string `json:"room,omitempty"`
	// Auto: accepted without asking, because the sender is verified and the
	// user chose to take files from verified peers (SetAutoAcceptVerified).
	Auto bool `json:"auto,omitempty"`
}

// FileProgress of a download (or of a 1:1 upload, out); rate in bytes/s. At most
// four per second per transfer.
type FileProgress struct {
	ID    string  `json:"id"`
	Bytes uint64  `json:"bytes"`
	Total uint64  `json:"total"`
	Rate  float64 `json:"rate"`
	Out   bool    `json:"out,omitempty"`
}

// FileDone: a download is complete and verified at Path (or, out, the recipient
// of our offer has it). Hash is the file's root hash (hex).
type FileDone struct {
	ID   string `json:"id"`
	Path string `json:"path"`
	Hash string `json:"hash"`
	Out  bool   `json:"out,omitempty"`
}

// FileFailed: a transfer ended without the file.
type FileFailed struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
	Out    bool   `json:"out,omitempty"`
}

func (FileOffer) EventName() string    { return "file_offer" }
func (FileProgress) EventName() string { return "file_progress" }
func (FileDone) EventName() string     { return "file_done" }
func (FileFailed) EventName() string   { return "file_failed" }

// bulkRanker ranks file sources with the link-quality ranking for bulk transfer.
type bulkRanker struct{ n *Node }

func (r bulkRanker) Rank(cands []identity.PeerID) []identity.PeerID {
	ids := make([]string, len(cands))
	byText := make(map[string]identity.PeerID, len(cands))
	for i, c := range cands {
		ids[i] = c.String()
		byText[ids[i]] = c
	}
	ranked := selection.Rank(r.n.qual.Graph(), selection.Request{Purpose: selection.BulkTransfer, From: r.n.id.ID.String(), Candidates: ids},
		selection.DefaultWeights(selection.BulkTransfer), r.n.costMapNow())
	out := make([]identity.PeerID, 0, len(ranked))
	for _, c := range ranked {
		if id, ok := byText[c.ID]; ok {
			out = append(out, id)
		}
	}
	return out
}

// downloadsDir is where accepted files land: Config.Downloads, else the
// folder chosen in the settings, else Config.DownloadsDefault, else
// DATA/downloads: next to the identity and database, so several instances on
// one machine never share it (node/downloads.go).
func (n *Node) downloadsDir() string {
	if n.cfg.Downloads != "" {
		return n.cfg.Downloads
	}
	if dir, _, _ := n.db.Setting(settingDownloads); dir != "" {
		return dir
	}
	if n.cfg.DownloadsDefault != "" {
		return n.cfg.DownloadsDefault
	}
	return filepath.Join(n.cfg.DataDir, "downloads")
}

// setupFiles creates the file service and registers its frame handlers.
func (n *Node) setupFiles() error {
	var err error
	n.files, err = files.New(files.Config{
		Identity: n.id, Net: overlayNet{n.ov}, Store: n.db, Rooms: n.rooms, Ranker: bulkRanker{n},
		Downloads: n.downloadsDir(), Emit: n.onFiles, Log: n.log, Stats: &n.stats, Now: n.cfg.Now,
		Refuse: n.trust.isBlocked,
	})
	if err != nil {
		return err
	}
	for _, typ := range []uint8{files.TypeOffer, files.TypeAnswer, files.TypeQuery, files.TypeHave, files.TypeReq,
		files.TypeSealed, files.TypeChunk, files.TypeSealedChunk} {
		n.ov.Handle(typ, n.files.HandleDirect(typ))
	}
	n.ov.HandleRouted(files.TypeSealed, n.files.HandleRouted(files.TypeSealed))
	n.ov.HandleRouted(files.TypeSealedChunk, n.files.HandleRouted(files.TypeSealedChunk))
	return nil
}

func (n *Node) onFiles(ev files.Event) {
	switch e := ev.(type) {
	case files.Offered:
		auto := n.AutoAcceptVerified() && n.verified(e.From)
		n.emit(FileOffer{ID: e.ID, Name: e.Name, Size: e.Size, Type: e.MediaType, From: e.From, Room: e.Room, Auto: auto})
		if auto {
			// Not from here: the files service may be inside its own lock.
			go func() {
				if err := n.files.Accept(e.ID); err != nil {
					n.log.Warn("auto-accept failed", "file", e.ID, "err", err)
					n.emit(FileFailed{ID: e.ID, Reason: err.Error()})
				}
			}()
		}
	case files.Progress:
		n.emit(FileProgress{ID: e.ID, Bytes: e.Bytes, Total: e.Total, Rate: e.Rate, Out: e.Out})
	case files.Done:
		n.emit(FileDone{ID: e.ID, Path: e.Path, Hash: e.Hash, Out: e.Out})
	case files.Failed:
		n.emit(FileFailed{ID: e.ID, Reason: e.Reason, Out: e.Out})
	}
}

// settingAutoAcceptVerified is "1" when offers from verified peers are accepted
// without asking. Off by default: a file lands on disk only when the user says so.
const settingAutoAcceptVerified = "files.auto_accept_verified"

// AutoAcceptVerified reports whether offers from verified peers are accepted
// without asking.
func (n *Node) AutoAcceptVerified() bool {
	v, ok, _ := n.db.Setting(settingAutoAcceptVerified)
	return ok && v == "1"
}

// SetAutoAcceptVerified turns accepting offers from verified peers without
// asking on or off; the choice is kept in the settings.
func (n *Node) SetAutoAcceptVerified(on bool) error {
	v := "0"
	if on {
		v = "1"
	}
	if err := n.db.SetSetting(settingAutoAcceptVerified, v); err != nil {
		return fmt.Errorf("auto-accept setting: %w", err)
	}
	return nil
}

// verified reports whether the user marked peer (a peer ID string) verified.
func (n *Node) verified(peer string) bool {
	p, ok, err := n.db.GetPeer(peer)
	return err == nil && ok && p.Verified
}

// SendFile offers files (a folder: every file in it) to a peer or into a room,
// one offer per file; it returns the offer IDs.
func (n *Node) SendFile(to, room string, paths ...string) ([]string, error) {
	var peer identity.PeerID
	if to != "" {
		var err error
		if peer, err = identity.ParsePeerID(to); err != nil {
			return nil, fmt.Errorf("send file: %w", err)
		}
	}
	if room != "" {
		if _, ok := n.rooms.Info(room); !ok {
			return nil, fmt.Errorf("send file: unknown room %q", room)
		}
	}
	return n.files.SendFile(peer, room, paths...)
}

// AcceptFile starts downloading an offered file into the downloads folder.
func (n *Node) AcceptFile(id string) error { return n.files.Accept(id) }

// DeclineFile refuses an offer; nothing is written.
func (n *Node) DeclineFile(id string) error { return n.files.Decline(id) }

// CancelFile stops a transfer in either direction.
func (n *Node) CancelFile(id string) error { return n.files.Cancel(id) }

// Transfers lists file transfers, sent and received.
func (n *Node) Transfers() []Transfer { return views(n.files.Transfers(), transferView) }
