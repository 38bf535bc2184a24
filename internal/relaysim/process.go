package relaysim

import (
	"time"

	"parley/selection"
)

// Drift and churn. Each process redraws its value at exponentially distributed
// times, so metrics change in steps the way a user starting a download or a
// neighbour's microwave does, not as smooth noise.
const (
	utilEvery   = 8 * time.Minute  // the owner's own traffic changes
	cpuEvery    = 6 * time.Minute  // the owner's CPU use changes
	sessEvery   = 10 * time.Minute // relay sessions for others come and go
	regimeEvery = 15 * time.Minute // a Wi-Fi cell's interference changes
	meanOnline  = 90 * time.Minute // churn: time a peer stays ...
	meanOffline = 15 * time.Minute // ... and stays away
)

// initProcesses draws every process's first value and event time.
func (w *world) initProcesses() {
	r := w.rnd
	for _, n := range w.nodes {
		w.drawUtil(n)
		w.drawCPU(n)
		w.drawSessions(n)
		n.nextUtil = expDur(r, utilEvery)
		n.nextCPU = expDur(r, cpuEvery)
		n.nextSess = expDur(r, sessEvery)
		// Start in the churn process's steady state.
		share := float64(meanOnline) / float64(meanOnline+meanOffline)
		n.online = n.pinned || r.Float64() < share
		if n.online {
			n.nextChurn = expDur(r, meanOnline)
		} else {
			n.nextChurn = expDur(r, meanOffline)
		}
		n.pub = selection.NewPublisher()
	}
	for i := range w.cells {
		w.drawRegime(&w.cells[i])
		w.cells[i].next = expDur(r, regimeEvery)
	}
}

func (w *world) drawUtil(n *node) {
	n.utilUp, n.utilDown = w.utilisation(), w.utilisation()
}

// utilisation: mostly light use, sometimes a big transfer.
func (w *world) utilisation() float64 {
	if w.rnd.Float64() < 0.75 {
		return 0.3 * w.rnd.Float64()
	}
	return 0.5 + 0.47*w.rnd.Float64()
}

func (w *world) drawCPU(n *node) {
	if w.rnd.Float64() < 0.8 {
		n.cpu = 0.02 + 0.28*w.rnd.Float64()
	} else {
		n.cpu = 0.5 + 0.45*w.rnd.Float64()
	}
}

func (w *world) drawSessions(n *node) {
	n.bgSessions = 0
	if w.rnd.Float64() < 0.4 {
		n.bgSessions = 1 + w.rnd.IntN(3)
	}
}

func (w *world) drawRegime(c *cell) {
	c.mult = 1
	if c.wifi && w.rnd.Float64() < 0.3 {
		c.mult = 1.5 + 2.5*w.rnd.Float64()
	}
}

// advance runs every process up to now.
func (w *world) advance(now time.Duration) {
	r := w.rnd
	for _, n := range w.nodes {
		for n.nextUtil <= now {
			w.drawUtil(n)
			n.nextUtil += expDur(r, utilEvery)
		}
		for n.nextCPU <= now {
			w.drawCPU(n)
			n.nextCPU += expDur(r, cpuEvery)
		}
		for n.nextSess <= now {
			w.drawSessions(n)
			n.nextSess += expDur(r, sessEvery)
		}
		for n.nextChurn <= now {
			if n.pinned {
				n.nextChurn = now + 1000*time.Hour
				break
			}
			w.setOnline(n, !n.online)
			if n.online {
				n.nextChurn += expDur(r, meanOnline)
			} else {
				n.nextChurn += expDur(r, meanOffline)
			}
		}
	}
	for i := range w.cells {
		c := &w.cells[i]
		for c.next <= now {
			w.drawRegime(c)
			w.truthEpoch++
			c.next += expDur(r, regimeEvery)
		}
	}
}

// setOnline changes a node's presence. Leaving publishes a goodbye (peers mark it
// offline at once); joining starts its links afresh and publishes a new record at
// its next probe round. Its coordinate is kept, as a real node keeps it on disk.
func (w *world) setOnline(n *node, on bool) {
	n.online = on
	w.graphDirty = true
	if n.bridge {
		w.truthEpoch++ // cross-segment routes change
	}
	if on {
		n.links = map[int]*selection.LinkEstimator{}
		n.pub = selection.NewPublisher()
		n.self = selection.SelfEstimator{}
		n.probes, n.nextFar = nil, 0 // a restarted node probes its links afresh
		for _, j := range n.nbrs {
			delete(w.nodes[j].links, n.idx)
		}
	}
}

func (w *world) onlineCount() int {
	c := 0
	for _, n := range w.nodes {
		if n.online {
			c++
		}
	}
	return c
}
