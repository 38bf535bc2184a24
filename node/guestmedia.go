package node

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"

	"parley/media/audio"
	"parley/media/rtpbridge"
	"parley/media/webbridge"
)

// guestMedia is this node's browser audio (a guest's node: its page's
// microphone and loudspeaker over WebRTC, media/webbridge). While a bridge
// is connected, or once the node was told its audio is a browser's
// (useBrowserAudio), every call's audio goes through bridgeSource and
// bridgeSink, which look up the current bridge frame by frame: a call started
// before the page connected hears silence and sends into nothing until it
// does, and a page that reconnects (a reload, a new offer) replaces the
// bridge under a call without ending it.
type guestMedia struct {
	// answering admits one ConnectMedia at a time: each sets up a peer
	// connection with its sockets, and a page that floods offers should
	// cost no more than one.
	answering chan struct{}

	mu      sync.Mutex
	bridge  *webbridge.Bridge // nil: none connected
	rtp     *rtpbridge.Bridge // a SIP phone's call audio (devicemedia.go), before bridge
	browser bool              // audio is the browser's even with no bridge
	closed  bool              // the node stopped
	// users are the calls' source/sink pairs open now, oldest first, by
	// number (next numbers them). The page has one microphone and one
	// loudspeaker: only the newest call uses them, and an older call on hold
	// gets silence and discard until the newer one ends. Two calls reading
	// and writing at once would each hear half the page's frames, and the
	// page would get twice the frames it plays.
	users []uint64
	next  uint64
}

// ErrMediaStopped is returned by ConnectMedia on a stopped node.
var ErrMediaStopped = errors.New("media: node stopped")

// ConnectMedia answers a browser's WebRTC offer (one Opus audio track each
// way, complete with its candidates) and makes the bridge this node's call
// audio until DisconnectMedia or the next ConnectMedia. It returns the
// complete answer. A bad offer is refused before anything is set up
// (webbridge.CheckOffer's errors), and a failed answer leaves the previous
// bridge in place.
func (n *Node) ConnectMedia(ctx context.Context, offerSDP string) (string, error) {
	if err := webbridge.CheckOffer(offerSDP); err != nil {
		n.stats.Add("media_offer_refused", 1)
		return "", err
	}
	m := &n.media
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return "", ErrMediaStopped
	}
	if m.answering == nil {
		m.answering = make(chan struct{}, 1)
	}
	answering := m.answering
	m.mu.Unlock()
	select {
	case answering <- struct{}{}:
		defer func() { <-answering }()
	case <-ctx.Done():
		return "", ctx.Err()
	}
	b, err := webbridge.New(webbridge.Config{Interfaces: n.keepIfaceName, IPs: n.isLinkIP, Log: n.log})
	if err != nil {
		return "", err
	}
	answer, err := b.Answer(ctx, offerSDP)
	if err != nil {
		n.stats.Add("media_answer_failed", 1)
		b.Close()
		return "", err
	}
	m.mu.Lock()
	if m.closed { // stopped while answering
		m.mu.Unlock()
		b.Close()
		return "", ErrMediaStopped
	}
	old := m.bridge
	m.bridge = b
	m.mu.Unlock()
	if old != nil {
		old.Close()
	}
	n.stats.Add("media_connects", 1)
	return answer, nil
}

// DisconnectMedia ends the browser's audio: calls in progress hear silence
// and send into nothing; new calls use the node's own audio again (a guest's
// node stays on the browser's, see useBrowserAudio).
func (n *Node) DisconnectMedia() {
	m := &n.media
	m.mu.Lock()
	old := m.bridge
	m.bridge = nil
	m.mu.Unlock()
	if old != nil {
		old.Close()
	}
}

// MediaStats describes the browser's audio bridge (ok false: none connected).
func (n *Node) MediaStats() (webbridge.Stats, bool) {
	if b := n.media.current(); b != nil {
		return b.Stats(), true
	}
	return webbridge.Stats{}, false
}

// useBrowserAudio makes every call of this node use the browser's audio,
// silence and discard while no page is connected: a guest's node has no
// other. Its host calls it before Start.
func (n *Node) useBrowserAudio() {
	n.media.mu.Lock()
	n.media.browser = true
	n.media.mu.Unlock()
}

// stopMedia closes the bridge for good (Stop).
func (n *Node) stopMedia() {
	n.media.mu.Lock()
	n.media.closed = true
	n.media.mu.Unlock()
	n.DisconnectMedia()
	n.SIPMediaEnd()
}

func (m *guestMedia) current() *webbridge.Bridge {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bridge
}

// open registers a call's pair and returns its number.
func (m *guestMedia) open() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	m.users = append(m.users, m.next)
	return m.next
}

// release forgets a call's pair (its source or sink closed; twice is fine).
func (m *guestMedia) release(user uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.users = slices.DeleteFunc(m.users, func(u uint64) bool { return u == user })
}

// bridgeFor is the bridge user may use now: the current one if user is the
// newest open pair, else nil.
func (m *guestMedia) bridgeFor(user uint64) audioBridge {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.users) == 0 || m.users[len(m.users)-1] != user {
		return nil
	}
	if m.rtp != nil {
		return m.rtp
	}
	if m.bridge != nil {
		return m.bridge
	}
	return nil
}

// audioBridge is a client's sound: a browser's (webbridge) or a phone's
// (rtpbridge).
type audioBridge interface {
	Source() audio.Source
	Sink() audio.Sink
}

// bridgedAudio returns a call's source and sink when this node's audio is
// the browser's. The source is paced here, as a tone or file source is: the
// bridge's own never waits.
func (n *Node) bridgedAudio() (audio.Source, audio.Sink, bool) {
	m := &n.media
	m.mu.Lock()
	on := m.browser || m.bridge != nil
	m.mu.Unlock()
	if !on {
		return nil, nil, false
	}
	user := m.open()
	return audio.Paced(bridgeSource{m, user}, nil), bridgeSink{m, user}, true
}

// isLinkIP keeps the node's link addresses for the bridge's ICE candidates:
// the browser reached this node over one of them (no address known yet: any).
func (n *Node) isLinkIP(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	addrs := n.disc.LocalAddrs()
	return len(addrs) == 0 || slices.Contains(addrs, a.Unmap())
}

// bridgeSource reads the current bridge, silence with none (or while a newer
// call has the page); bridgeSink writes to it, discarding likewise. Closing
// them (their call ended) leaves the bridge to the other calls.
type bridgeSource struct {
	m    *guestMedia
	user uint64
}

func (s bridgeSource) ReadFrame(dst []int16) error {
	if b := s.m.bridgeFor(s.user); b != nil {
		return b.Source().ReadFrame(dst)
	}
	return audio.NewNull().ReadFrame(dst)
}

func (s bridgeSource) Close() error { s.m.release(s.user); return nil }

type bridgeSink struct {
	m    *guestMedia
	user uint64
}

func (s bridgeSink) WriteFrame(src []int16) error {
	if b := s.m.bridgeFor(s.user); b != nil {
		return b.Sink().WriteFrame(src)
	}
	return audio.NewNull().WriteFrame(src)
}

func (s bridgeSink) Close() error { s.m.release(s.user); return nil }
