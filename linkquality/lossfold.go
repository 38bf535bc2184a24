package linkquality

import (
	"parley/overlay"
	"parley/selection"
)

// minLossPackets is how many packets a link must have sent since the last
// reading before its loss is folded into the estimate.
const minLossPackets = 20

// lossReading is a link's counters at one reading.
type lossReading struct {
	lost, sent, bytes uint64
	bulk              bool // the stretch up to this reading carried bulk data
}

// lossCounters reads a link's packets lost and sent and bytes sent so far: the
// kernel's TCP retransmissions, data segments and bytes where it has them, else
// pings and frame bytes. Over TCP a ping is never dropped, only delayed, so ping
// loss sees dead links and nothing else; without the kernel's counters a LAN
// link would always publish 0 loss and the loss terms of every ranking would
// compare zeros. The kernel's bytes go with its segments: the frame counters run
// ahead of the segments while a burst drains.
func lossCounters(q overlay.Quality) lossReading {
	if q.Transport {
		return lossReading{lost: q.SegsRetrans, sent: q.SegsSent, bytes: q.SegsBytes}
	}
	return lossReading{lost: q.Lost, sent: q.Sent, bytes: q.TxBytes}
}

// bulkBatchBytes: a stretch of a link's traffic that carried more than this
// counts as bulk. Pings, pongs and chat send a few kB in the 10 s an idle link
// takes for minLossPackets; a capacity probe sends 64 KiB, a file chunk 256 KiB.
const bulkBatchBytes = 8 << 10

// foldLoss folds a link's loss since the reading prev into e once the link has
// sent minLossPackets since then (an idle link sends about two a second, and one
// retransmission in a one-second interval would read as 50 % loss for that
// interval), and returns the reading to count from next.
//
// A stretch that carried bulk data is skipped. TCP finds a path's capacity by
// filling its bottleneck until a packet drops, so a probe burst or a file
// transfer through a slow link always loses packets; that is what the spare
// bandwidth term measures, not the random loss the loss term is for. Counting it
// made a relay whose 256 kbit/s links were probed every 3 s publish 12 % loss,
// and go on publishing it for minutes after the shaping was lifted, so a test's
// relay choice flapped back to the relay that was now shaped. The stretch after a
// bulk one is skipped as well: a burst's last retransmissions can fall into it.
func foldLoss(e *selection.LinkEstimator, prev lossReading, q overlay.Quality) lossReading {
	cur := lossCounters(q)
	if cur.sent < prev.sent || cur.lost < prev.lost || cur.bytes < prev.bytes {
		prev = lossReading{} // a new connection: its counters started again
	}
	n := cur.sent - prev.sent
	if n < minLossPackets {
		return prev
	}
	cur.bulk = cur.bytes-prev.bytes > bulkBatchBytes
	if !cur.bulk && !prev.bulk {
		e.AddLoss(int(cur.lost-prev.lost), int(n))
	}
	return cur
}
