package chatload

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"time"

	"parley/headless/client"
	"parley/internal/netlab"
)

// Result is the accounting of one run.
type Result struct {
	Acked, Direct, RoomMsgs int // messages acknowledged "sent"
	Deliveries              int // expected: 1:1 + room messages × (room members − 1)
	Shown                   int // deliveries shown to recipients as events
	Unshown                 int // stored but never shown (receiver killed between commit and event)
	Lost, Dups, Unacked     int
	Restarts, Kills         int
	Latency                 []time.Duration // sorted; recipients that ran throughout
	LateLatency             []time.Duration // sorted; recipients restarted in between
	Notes                   []string
	Failed                  bool
}

// Settle waits up to Drain for every acknowledged message to be shown, then reads
// every history that had traffic and counts acknowledged messages missing from an
// intended recipient (lost) and messages stored or shown more than once
// (duplicates). Every member must be up (RestartDown).
func (l *Load) Settle() Result {
	l.init()
	deadline := time.Now().Add(l.Drain)
	for {
		l.scanAll()
		if l.missingLive() == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	l.mu.Lock()
	msgs := slices.Collect(maps.Values(l.msgs))
	l.mu.Unlock()
	// Stored: what each node's history holds, by message id, for every 1:1
	// conversation that had traffic (both ways) and the room.
	stored := make([]map[string]int, len(l.Members))
	for i := range stored {
		stored[i] = map[string]int{}
	}
	for pr := range conversations(msgs) {
		p, _, _ := l.Members[pr[0]].Current()
		for _, id := range history(p, "peer", l.Members[pr[1]].ID()) {
			stored[pr[0]][id]++
		}
	}
	for _, i := range l.RoomMembers {
		p, _, _ := l.Members[i].Current()
		for _, id := range history(p, "room", l.Room) {
			stored[i][id]++
		}
	}
	names := make([]string, len(l.Members))
	for i, m := range l.Members {
		names[i] = m.Name
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := tally{names: names, room: l.RoomMembers, msgs: msgs, stored: stored, received: l.received}.count()
	r.Latency, r.LateLatency = slices.Sorted(slices.Values(l.latency)), slices.Sorted(slices.Values(l.lateLat))
	r.Restarts, r.Kills = l.restarts, l.kills
	r.Notes = append(slices.Clone(l.notes), r.Notes...)
	sort.Strings(r.Notes)
	r.Failed = l.failed || r.Lost > 0 || r.Dups > 0
	return r
}

// conversations is every 1:1 pair with an acknowledged message, both ways
// (each side's history is read).
func conversations(msgs []*sentMsg) map[[2]int]bool {
	pairs := map[[2]int]bool{}
	for _, m := range msgs {
		if !m.pending && m.to >= 0 {
			pairs[[2]int{m.from, m.to}], pairs[[2]int{m.to, m.from}] = true, true
		}
	}
	return pairs
}

// tally is what a run's accounting is computed from: the messages sent,
// what each member's history stores (message id → copies) and what each was
// shown (text → member → times).
type tally struct {
	names    []string
	room     []int
	msgs     []*sentMsg
	stored   []map[string]int
	received map[string]map[int]int
}

// count fills the delivery figures of a Result: an acknowledged message
// must be stored once by its sender and by each recipient (the other end, or
// every other room member); missing is lost, twice is a duplicate, and so is
// being shown twice.
func (t tally) count() Result {
	var r Result
	note := func(format string, args ...any) { r.Notes = append(r.Notes, fmt.Sprintf(format, args...)) }
	for _, msg := range t.msgs {
		if msg.pending {
			r.Unacked++
			continue
		}
		r.Acked++
		if msg.to == -1 {
			r.RoomMsgs++
			r.Deliveries += len(t.room) - 1
		} else {
			r.Direct++
			r.Deliveries++
		}
		for i := range t.names {
			if i != msg.from && msg.to != i && (msg.to != -1 || !slices.Contains(t.room, i)) {
				continue
			}
			if i != msg.from && t.stored[i][msg.id] > 0 && t.received[msg.text][i] == 0 {
				r.Unshown++
			}
			switch n := t.stored[i][msg.id]; {
			case n == 0:
				r.Lost++
				note("lost: %q (id %s) missing from %s", msg.text, msg.id, t.names[i])
			case n > 1:
				r.Dups++
				note("duplicate: %q stored %d times on %s", msg.text, n, t.names[i])
			}
		}
	}
	for text, by := range t.received {
		r.Shown += len(by)
		for i, n := range by {
			if n > 1 {
				r.Dups++
				note("duplicate: %q shown %d times on %s", text, n, t.names[i])
			}
		}
	}
	return r
}

// missingLive counts acknowledged messages not yet shown to every recipient.
func (l *Load) missingLive() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	missing := 0
	for _, m := range l.msgs {
		if m.pending {
			continue
		}
		for i := range l.Members {
			if i == m.from || (m.to != -1 && m.to != i) || (m.to == -1 && !l.inRoom(i)) {
				continue
			}
			if l.received[m.text][i] == 0 {
				missing++
			}
		}
	}
	return missing
}

// history returns the message ids of one conversation, following the cursors.
func history(p *netlab.Proc, key, value string) []string {
	var ids []string
	before := ""
	for {
		q := client.HistoryQuery{Before: before, Limit: 500}
		if key == "room" {
			q.Room = value
		} else {
			q.Peer = value
		}
		page, err := p.Within(20 * time.Second).History(q)
		if err != nil {
			return ids
		}
		for _, mm := range page.Messages {
			ids = append(ids, mm.ID)
		}
		before = page.Next
		if before == "" {
			return ids
		}
	}
}

// Table writes the delivery rows of a markdown "| figure | value |" table.
func (r Result) Table(w io.Writer, roomMembers int) {
	fmt.Fprintf(w, "| messages sent (acknowledged by the sender's node) | %d (%d 1:1, %d room) |\n", r.Acked, r.Direct, r.RoomMsgs)
	fmt.Fprintf(w, "| deliveries expected (1:1 + room × %d members) | %d |\n", roomMembers-1, r.Deliveries)
	fmt.Fprintf(w, "| deliveries shown to recipients | %d |\n", r.Shown)
	fmt.Fprintf(w, "| stored but never shown (receiver killed between commit and event) | %d |\n", r.Unshown)
	fmt.Fprintf(w, "| lost (acknowledged, missing from a recipient's history) | %d |\n", r.Lost)
	fmt.Fprintf(w, "| duplicated (stored or shown twice) | %d |\n", r.Dups)
	fmt.Fprintf(w, "| commands cut off by a kill before \"sent\" (not acknowledged) | %d |\n", r.Unacked)
	fmt.Fprintf(w, "| restarts (SIGKILL / clean quit) | %d (%d / %d) |\n", r.Restarts, r.Kills, r.Restarts-r.Kills)
	if lat := r.Latency; len(lat) > 0 {
		fmt.Fprintf(w, "| latency, live recipients (n=%d): p50 / p99 / max | %s / %s / %s |\n", len(lat), ms(Quantile(lat, .5)), ms(Quantile(lat, .99)), ms(lat[len(lat)-1]))
	}
	if late := r.LateLatency; len(late) > 0 {
		fmt.Fprintf(w, "| latency, recipients restarted in between (n=%d): p50 / p99 | %.1f s / %.1f s |\n", len(late), Quantile(late, .5).Seconds(), Quantile(late, .99).Seconds())
	}
}

// WriteNotes writes up to 20 notes (lost and duplicated messages, failed restarts).
func (r Result) WriteNotes(w io.Writer) {
	if len(r.Notes) == 0 {
		return
	}
	fmt.Fprintln(w)
	for i, n := range r.Notes {
		if i == 20 {
			fmt.Fprintf(w, "… and %d more notes\n", len(r.Notes)-20)
			break
		}
		fmt.Fprintln(w, "note:", n)
	}
}

// Quantile of sorted d.
func Quantile(d []time.Duration, p float64) time.Duration {
	return d[min(len(d)-1, int(p*float64(len(d))))]
}

func ms(x time.Duration) string { return fmt.Sprintf("%.1f ms", float64(x.Microseconds())/1000) }
