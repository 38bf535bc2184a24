package node

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"parley/identity"
	"parley/internal/sysinfo"
	"parley/internal/wire"
	"parley/linkquality"
	"parley/overlay"
	"parley/selection"
)

// setupQuality makes the link-quality monitor (package linkquality), once the
// overlay it measures exists. power is the --power override.
func (n *Node) setupQuality(power sysinfo.Power) {
	// The cell's salt is the team's own secret in a closed team, so outsiders
	// cannot test guessed BSSIDs against published cells (linkquality/cell.go).
	var cellSalt []byte
	if n.teamKey != nil {
		cellSalt = n.teamKey.Tag("parley cell salt")
	}
	n.qual = linkquality.New(linkquality.Config{
		Self: n.id.ID, Overlay: n.ov, Power: power, Load: n.relayLoad, Republish: n.republishExtensions, CellSalt: cellSalt,
		ProbeInterval: n.cfg.ProbeInterval, PublishMin: n.cfg.QualityInterval, Now: n.cfg.Now, Log: n.log,
	})
	// What this node forwards for others is load; the overlay's own measuring and
	// a call's signalling are not (the call's media is counted by the TURN relay
	// that carries it). See overlay.NotLoad.
	n.ov.NotLoad(wire.FrameFarPing, wire.FrameFarPong, wire.FrameCall)
	// Far pings for the network coordinate (linkquality/farping.go): routed
	// when there is no link, direct when one came up meanwhile.
	for typ, h := range map[uint8]func(identity.PeerID, []byte){
		linkquality.TypeFarPing: n.qual.OnFarPing, linkquality.TypeFarPong: n.qual.OnFarPong,
	} {
		n.ov.Handle(typ, h)
		n.ov.HandleRouted(typ, func(src, _ identity.PeerID, p []byte) { h(src, p) })
	}
}

// relayLoad is what this node forwards for others now: overlay frames, and calls
// relayed by its TURN server, which load it as much.
func (n *Node) relayLoad() overlay.RelayLoad {
	load := n.ov.RelayLoad()
	if n.turn != nil {
		tl := n.turn.Load()
		load.Sessions += tl.Sessions
		load.Bps += tl.BitsPerSecond
	}
	return load
}

// published decodes a peer's self-metrics extension (linkquality.Published).
func published(rec *overlay.Record) (selection.SelfMetrics, bool) { return linkquality.Published(rec) }

// RankedRelay is one candidate in a relay ranking, with the cost terms that explain
// its place (ms-equivalent each).
type RankedRelay struct {
	ID        string             `json:"id"`
	Name      string             `json:"name"`
	Cost      float64            `json:"cost"`
	Terms     map[string]float64 `json:"terms"`
	Estimated int                `json:"estimated_legs,omitempty"` // legs costed from coordinates
	Unknown   int                `json:"unknown_legs,omitempty"`   // legs with no data at all
}

// RelayChoice is the ranking for one purpose and the current (hysteresis-held) choice.
type RelayChoice struct {
	Purpose  string        `json:"purpose"`
	To       []string      `json:"to"`
	Chosen   string        `json:"chosen,omitempty"`
	Switched bool          `json:"switched"`
	Ranking  []RankedRelay `json:"ranking"`
}

// Relays ranks the candidate peers for purpose (chat, voice, mixer, bulk) between this
// node and the peers in to, and returns the choice the node keeps for that purpose
// and destination: it changes at once only for a clear gain (> 10 ms and < 2/3 of
// the cost), or for a smaller one (> 1 ms and < 0.8 of the cost) seen on every call
// for 30 s, at least 2 minutes after the last change (selection.Hysteresis).
func (n *Node) Relays(purpose string, to []string) (RelayChoice, error) {
	p, err := selection.ParsePurpose(purpose)
	if err != nil {
		return RelayChoice{}, err
	}
	if len(to) == 0 && p != selection.BulkTransfer {
		return RelayChoice{}, errors.New("relays: name the peer(s) at the other end")
	}
	for _, t := range to {
		if _, err := identity.ParsePeerID(t); err != nil {
			return RelayChoice{}, fmt.Errorf("relays: %w", err)
		}
	}
	n.qual.Publish() // fresh own measurements
	req := selection.Request{Purpose: p, From: n.id.ID.String(), To: to, Own: n.ownRelaySessions(to)}
	ranked := selection.Rank(n.qual.Graph(), req, selection.DefaultWeights(p), n.costMapNow())
	out := RelayChoice{Purpose: p.String(), To: to, Ranking: []RankedRelay{}}
	for _, r := range ranked {
		rr := RankedRelay{ID: r.ID, Cost: r.Cost, Terms: r.Terms.Map(), Estimated: r.Estimated, Unknown: r.Unknown}
		if id, err := identity.ParsePeerID(r.ID); err == nil {
			if rec := n.ov.RecordOf(id); rec != nil {
				rr.Name = rec.Name
			}
		}
		out.Ranking = append(out.Ranking, rr)
	}
	chosen, switched := n.qual.Choose(p.String()+":"+strings.Join(to, ","), ranked)
	out.Chosen, out.Switched = chosen.ID, switched
	return out, nil
}

// ownRelaySessions counts this node's call legs to the peers in to on each relay
// (relayrep.go's carrying, from the calls' stats): the relay publishes them among
// its sessions, and the decision they are choosing for must not hold them against
// it (selection.Request.Own). Legs to other peers are load like anyone's.
func (n *Node) ownRelaySessions(to []string) map[string]int {
	a := &n.relayAsks
	a.mu.Lock()
	defer a.mu.Unlock()
	var own map[string]int
	for k, r := range a.carrying {
		if !slices.Contains(to, k.peer.String()) {
			continue
		}
		if own == nil {
			own = map[string]int{}
		}
		own[r.String()]++
	}
	return own
}

func loadCostMap(path string) (*selection.CostMap, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cost map: %w", err)
	}
	defer f.Close()
	cm, err := selection.ParseCostMap(f)
	if err != nil {
		return nil, fmt.Errorf("cost map %s: %w", path, err)
	}
	return cm, nil
}
