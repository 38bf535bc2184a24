package webbridge

// send encodes one frame and writes it to the browser's track. Before the
// browser is connected the track has no binding and the write goes nowhere.
func (b *Bridge) send(pcm []int16) {
	b.sendMu.Lock()
	defer b.sendMu.Unlock()
	n, err := b.enc.Encode(pcm, b.pkt)
	if err != nil {
		b.countOut(func(c *outCounters) { c.encodeErrors++ })
		return
	}
	sent, err := b.pk.Write(b.track, b.pkt[:n])
	b.countOut(func(c *outCounters) {
		c.frames++
		if sent {
			c.packets++
		}
		if err != nil {
			c.sendErrors++
		}
	})
}

func (b *Bridge) countOut(f func(*outCounters)) {
	b.mu.Lock()
	f(&b.out)
	b.mu.Unlock()
}
