package chatload

import (
	"fmt"
	"io"
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
	var r Result
	l.mu.Lock()
	var acked []*sentMsg
	pairs := map[[2]int]bool{} // 1:1 conversations that had traffic, both ways
	for _, m := range l.msgs {
		if m.pending {
			r.Unacked++
			continue
		}
		acked = append(acked, m)
		if m.to >= 0 {
			pairs[[2]int{m.from, m.to}], pairs[[2]int{m.to, m.from}] = true, true
		}
	}
	l.mu.Unlock()
	// Stored: what each node's history holds, by message id.
	stored := make([]map[string]int, len(l.Members))
	for i := range stored {
		stored[i] = map[string]int{}
	}
	for pr := range pairs {
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
	for _, msg := range acked {
		for i := range l.Members {
			// The sender keeps its own copy; a room message goes to every member.
			if i != msg.from && msg.to != i && (msg.to != -1 || !l.inRoom(i)) {
				continue
			}
			if i != msg.from && stored[i][msg.id] > 0 && l.shownCount(msg.text, i) == 0 {
				r.Unshown++
			}
			switch n := stored[i][msg.id]; {
			case n == 0:
				r.Lost++
				l.Note("lost: %q (id %s) missing from %s", msg.text, msg.id, l.Members[i].Name)
			case n > 1:
				r.Dups++
				l.Note("duplicate: %q stored %d times on %s", msg.text, n, l.Members[i].Name)
			}
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for text, by := range l.received {
		for i, n := range by {
			if n > 1 {
				r.Dups++
				l.notes = append(l.notes, fmt.Sprintf("duplicate: %q shown %d times on %s", text, n, l.Members[i].Name))
			}
		}
	}
	for _, m := range acked {
		r.Acked++
		if m.to == -1 {
			r.RoomMsgs++
			r.Deliveries += len(l.RoomMembers) - 1
		} else {
			r.Direct++
			r.Deliveries++
		}
	}
	for _, by := range l.received {
		r.Shown += len(by)
	}
	r.Latency, r.LateLatency = slices.Sorted(slices.Values(l.latency)), slices.Sorted(slices.Values(l.lateLat))
	r.Restarts, r.Kills = l.restarts, l.kills
	r.Notes = slices.Clone(l.notes)
	sort.Strings(r.Notes)
	r.Failed = l.failed || r.Lost > 0 || r.Dups > 0
	return r
}

func (l *Load) shownCount(text string, member int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.received[text][member]
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
