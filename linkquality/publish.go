package linkquality

import (
	"parley/overlay"
	"parley/selection"
)

// Publish measures now and, when the publisher says the figures changed
// materially (selection.Publisher: at most once per PublishMin, sooner when they
// got worse, at least every 10 minutes), calls Republish. Run calls it once a
// second; a ranking calls it first for fresh own figures.
func (q *Monitor) Publish() {
	m := q.measure()
	q.mu.Lock()
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
