package main

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// chatProbe sends a chat message from a to d every gap until stop is closed and
// reports each one's latency: command written → d's "message" event.
type chatProbe struct {
	a, d *proc
	mu   sync.Mutex
	sent map[string]time.Time
	done chan struct{}
}

func startChatProbe(a, d *proc, gap time.Duration, stop <-chan struct{}) *chatProbe {
	p := &chatProbe{a: a, d: d, sent: map[string]time.Time{}, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(gap):
			}
			text := fmt.Sprintf("probe %d %d", time.Now().UnixNano(), i)
			p.mu.Lock()
			p.sent[text] = time.Now()
			p.mu.Unlock()
			// Not a.Send: waiting for each answer would stretch the probe's gap.
			a.SendRaw(map[string]any{"cmd": "send", "to": d.id, "text": text})
		}
	}()
	return p
}

// latencies waits for the probe to stop and its messages to land, sorted.
func (p *chatProbe) latencies() []time.Duration {
	<-p.done
	time.Sleep(time.Second)
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []time.Duration
	for _, e := range p.d.Events() {
		if e.Name() != "message" {
			continue
		}
		if t0, ok := p.sent[e.Str("text")]; ok {
			at, _ := time.Parse(time.RFC3339Nano, e.Str("time"))
			out = append(out, at.Sub(t0))
		}
	}
	slices.Sort(out)
	return out
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(q*float64(len(d))))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
