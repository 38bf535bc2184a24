package linkquality

import (
	"time"

	"parley/overlay"
	"parley/selection"
)

// Publish measures now and, when the publisher says the figures changed
// materially (selection.Publisher: at most once per PublishMin, sooner when they
// got worse, at least every 10 minutes), calls Republish. Run calls it once a
// second; a ranking calls it first for fresh own figures.
func (q *Monitor) Publish() {
	m := q.measure()
	held := len(q.cfg.Overlay.Records())
	q.mu.Lock()
	q.publisher.MinInterval = publishGap(q.publishMin, held)
	q.current = m
	rec := m
	rec.Links = selection.PublishedLinks(m.Links, q.record.Links, selection.MaxPublishedLinks)
	due := q.publisher.Offer(q.cfg.Now(), rec)
	if due {
		q.record = rec
	}
	q.mu.Unlock()
	if !due {
		return
	}
	if err := q.cfg.Republish(); err != nil {
		q.cfg.Log.Warn("publish link quality", "err", err)
	}
}

// publishSpacing is, per record held, how much the least gap between two
// publications grows: every publication is a record every node takes in, so n
// nodes publishing every 30 s cost each node n/30 records a second, about
// 1.5 kB each in a hall where nodes hold 40 links. The gap is max(PublishMin,
// n × publishSpacing) once that passes the default 30 s (a shorter PublishMin,
// in tests, holds in a small overlay): 30 s up to 30 peers, as before; 200 s
// among 150, 3 min (its bound) from 180. On a
// shared machine (cmd/benchhall) every node's CPU load and coordinate move
// enough to publish at every chance, so this is what bounds it there. A relay
// that got much worse still says so after UrgentInterval.
const publishSpacing = time.Second

// publishGap is the least time between two publications of a node holding n records.
func publishGap(base time.Duration, n int) time.Duration {
	// At most 3 minutes: records held include a flood's throwaway ones.
	if scaled := min(3*time.Minute, time.Duration(n)*publishSpacing); scaled > selection.DefaultMinInterval {
		return max(base, scaled)
	}
	return base
}

// Extension is the record extension (selection.ExtensionType) carrying what was
// last published (zero figures before the first publication).
func (q *Monitor) Extension() overlay.Extension {
	q.mu.Lock()
	m := q.record
	q.mu.Unlock()
	b, err := selection.EncodeSelf(m)
	if err != nil {
		return overlay.Extension{Type: selection.ExtensionType}
	}
	return overlay.Extension{Type: selection.ExtensionType, Value: b}
}

// Published decodes the self-metrics extension of a peer's record; false if the
// record is nil, has none, or it does not decode.
func Published(rec *overlay.Record) (selection.SelfMetrics, bool) {
	if rec == nil {
		return selection.SelfMetrics{}, false
	}
	for _, e := range rec.Extensions {
		if e.Type == selection.ExtensionType {
			m, err := selection.DecodeSelf(e.Value)
			return m, err == nil
		}
	}
	return selection.SelfMetrics{}, false
}
