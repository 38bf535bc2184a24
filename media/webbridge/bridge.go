package webbridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v2"
	"github.com/pion/interceptor"
	"github.com/pion/transport/v2"
	"github.com/pion/webrtc/v3"

	"parley/internal/pionlog"
	"parley/media/audio"
	"parley/media/opus"
	"parley/media/rtpopus"
)

// Config configures a Bridge; the zero value gathers on every interface of the
// machine with the defaults below.
type Config struct {
	// Interfaces keeps the network interfaces ICE gathers host candidates on,
	// IPs the addresses (nil: all). The node passes the interfaces and link
	// addresses it uses, so a guest's media takes the LAN its page came over.
	Interfaces func(name string) bool
	IPs        func(ip net.IP) bool
	// Net replaces the OS network (pion vnet in tests); IncludeLoopback lets
	// ICE use loopback candidates (a browser on the same machine, tests).
	Net             transport.Net
	IncludeLoopback bool
	// SettingEngine, when set, may adjust pion's settings after the bridge's
	// own (tests: timeouts, a UDP mux).
	SettingEngine func(*webrtc.SettingEngine)
	// GatherTimeout bounds how long Answer waits for this side's ICE gathering
	// (DefaultGatherTimeout). Host candidates take milliseconds; only a
	// broken interface makes it wait.
	GatherTimeout time.Duration
	// MaxQueue is how many 20 ms frames of the browser's audio are held
	// (DefaultMaxQueue); KeepQueue how many latency trimming leaves
	// (DefaultKeepQueue).
	MaxQueue, KeepQueue int
	Log                 *slog.Logger
}

const (
	// DefaultGatherTimeout: 5 s is far beyond host gathering (≈1 ms per
	// interface) and still short enough for a page waiting on the reply.
	DefaultGatherTimeout = 5 * time.Second
	// DefaultMaxQueue: 200 ms of audio. A LAN's jitter is a few ms; Wi-Fi's
	// power save can hold packets for 100 ms and more, and past 200 ms the
	// delay hurts conversation more than a lost burst does.
	DefaultMaxQueue = 10
	// DefaultKeepQueue: 40 ms (two frames) is what the queue may keep for a
	// second without being trimmed: one for the packet that arrives just
	// after our read, one for a browser's 10 ms scheduling wobble.
	DefaultKeepQueue = 2
	// maxPayload bounds an inbound packet's payload: libopus never produces
	// more than this for one packet (voice.Receiver uses the same bound).
	maxPayload = 4000
	// maxConceal is the longest gap in sequence numbers concealed with the
	// decoder's loss concealment (60 ms); a longer gap is a pause or a
	// restart, and inventing audio for it would only add delay.
	maxConceal = 3
	// maxMisorder is how far behind the newest sequence number a packet may
	// be and still count as late (dropped); further behind is a new stream.
	maxMisorder = 100
	// floorDBFS is the level reported for silence, so Stats stays plain JSON.
	floorDBFS = -100
)

// ErrClosed is returned by Answer on a closed bridge, ErrNoCandidates when
// no interface gave an address to offer the page.
var (
	ErrClosed       = errors.New("webbridge: closed")
	ErrNoCandidates = errors.New("webbridge: no local address to offer the browser")
)

// opusFmtp is what we ask of the browser's encoder (in-band FEC) and say of
// ours (RFC 7587), as the calls do.
const opusFmtp = "minptime=10;useinbandfec=1;usedtx=1"

var opusCodec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: opusFmtp}

// opusPayloadType is the payload type Chrome and Firefox both give Opus;
// pion answers with the offer's own if it differs.
const opusPayloadType = 111

// Bridge is one browser's audio connection. Source and Sink may be used as
// soon as it is made: they give silence and discard until the browser's media
// flows.
type Bridge struct {
	cfg   Config
	log   *slog.Logger
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticRTP
	state atomic.Value // webrtc.PeerConnectionState

	sendMu sync.Mutex // guards the encoder side
	enc    *opus.Encoder
	pk     rtpopus.Packetizer
	pkt    []byte

	mu       sync.Mutex // guards everything below
	q        *frameQueue
	closed   bool
	answered bool
	in       inCounters
	out      outCounters
	power    float64 // mean square of the decoded packets, smoothed (levelWeight)

	wg sync.WaitGroup
}

type inCounters struct {
	packets, concealed, decodeErrors, refused, late, restarts, flooded uint64
}

type outCounters struct {
	frames, packets, encodeErrors, sendErrors uint64
}

// New makes a bridge ready to answer one offer.
func New(cfg Config) (*Bridge, error) {
	if cfg.GatherTimeout <= 0 {
		cfg.GatherTimeout = DefaultGatherTimeout
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = DefaultMaxQueue
	}
	if cfg.KeepQueue <= 0 {
		cfg.KeepQueue = DefaultKeepQueue
	}
	cfg.KeepQueue = min(cfg.KeepQueue, cfg.MaxQueue)
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	b := &Bridge{cfg: cfg, log: cfg.Log, q: newFrameQueue(cfg.MaxQueue, cfg.KeepQueue), pkt: make([]byte, opus.MaxPacket), pk: rtpopus.New()}
	b.state.Store(webrtc.PeerConnectionStateNew)
	var err error
	// The same encoder settings as a call's (media/call newEncoder): default
	// bitrate, FEC ready for loss reports, DTX.
	if b.enc, err = opus.NewEncoder(opus.Options{FEC: true, DTX: true}); err != nil {
		return nil, fmt.Errorf("webbridge: %w", err)
	}
	if b.track, err = webrtc.NewTrackLocalStaticRTP(opusCodec, "audio", "parley"); err != nil {
		return nil, fmt.Errorf("webbridge: track: %w", err)
	}
	api, err := b.newAPI()
	if err != nil {
		return nil, err
	}
	if b.pc, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		return nil, fmt.Errorf("webbridge: peer connection: %w", err)
	}
	b.pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		b.state.Store(s)
		b.log.Debug("browser media", "state", s.String())
	})
	b.pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return
		}
		b.wg.Add(2)
		b.mu.Unlock()
		go func() { defer b.wg.Done(); drainRTCP(r.Read) }()
		defer b.wg.Done()
		b.receive(t)
	})
	return b, nil
}

// newAPI builds pion for one browser: Opus only, the default interceptors
// (NACK, RTCP reports, TWCC), UDP over IPv4 host candidates on the chosen
// interfaces, and mDNS in query mode to resolve the browser's ".local" names.
func (b *Bridge) newAPI() (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCodec, PayloadType: opusPayloadType}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("webbridge: register opus: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return nil, fmt.Errorf("webbridge: interceptors: %w", err)
	}
	se := webrtc.SettingEngine{LoggerFactory: pionlog.Factory{Log: b.log}}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeQueryOnly)
	// IPv4 as the calls: link addresses are IPv4 on the LANs Parley serves,
	// and a browser offers its IPv4 candidates too.
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if b.cfg.Interfaces != nil {
		se.SetInterfaceFilter(b.cfg.Interfaces)
	}
	if b.cfg.IPs != nil {
		se.SetIPFilter(b.cfg.IPs)
	}
	if b.cfg.Net != nil {
		se.SetNet(b.cfg.Net)
	}
	se.SetIncludeLoopbackCandidate(b.cfg.IncludeLoopback)
	if b.cfg.SettingEngine != nil {
		b.cfg.SettingEngine(&se)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// Answer checks the browser's offer (CheckOffer), and returns the complete
// answer once this side's ICE gathering finished (bounded by GatherTimeout
// and ctx). A bridge answers once; after an error it is of no further use
// and should be closed.
func (b *Bridge) Answer(ctx context.Context, offer string) (string, error) {
	if err := CheckOffer(offer); err != nil {
		return "", err
	}
	b.mu.Lock()
	switch {
	case b.closed:
		b.mu.Unlock()
		return "", ErrClosed
	case b.answered:
		b.mu.Unlock()
		return "", errors.New("webbridge: this bridge has answered an offer already")
	}
	b.answered = true
	b.mu.Unlock()

	if err := b.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("webbridge: offer: %w", err)
	}
	// After the offer, so the track takes the transceiver the offer's audio
	// line made instead of asking for a second one.
	sender, err := b.pc.AddTrack(b.track)
	if err != nil {
		return "", fmt.Errorf("webbridge: add track: %w", err)
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return "", ErrClosed
	}
	b.wg.Add(1)
	b.mu.Unlock()
	// The browser's receiver reports and NACKs for our stream must be read,
	// or the interceptors behind them stall.
	go func() { defer b.wg.Done(); drainRTCP(sender.Read) }()

	answer, err := b.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("webbridge: answer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(b.pc)
	if err := b.pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("webbridge: answer: %w", err)
	}
	timer := time.NewTimer(b.cfg.GatherTimeout)
	defer timer.Stop()
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("webbridge: gathering candidates: %w", ctx.Err())
	case <-timer.C:
		return "", fmt.Errorf("webbridge: gathering candidates took over %v", b.cfg.GatherTimeout)
	}
	sdpText := b.pc.LocalDescription().SDP
	if !strings.Contains(sdpText, "a=candidate:") {
		// Nothing the page could send its checks to: say so now rather than
		// let it wait for a connection that cannot come.
		return "", ErrNoCandidates
	}
	return sdpText, nil
}

// drainRTCP reads RTCP until the reader fails (closed): pion's interceptors
// act on it as it passes, and an unread stream would back up.
func drainRTCP(read func([]byte) (int, interceptor.Attributes, error)) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := read(buf); err != nil && !errors.Is(err, io.ErrShortBuffer) {
			return
		}
	}
}

// Close tears down the connection and waits for the bridge's goroutines.
// Source and Sink stay usable: silence and discard.
func (b *Bridge) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.q.reset()
	b.mu.Unlock()
	err := b.pc.Close()
	b.wg.Wait()
	return err
}

// State is the connection's state ("new", "connecting", "connected",
// "disconnected", "failed", "closed").
func (b *Bridge) State() string {
	return b.state.Load().(webrtc.PeerConnectionState).String()
}

// Stats describes both directions of the bridge.
type Stats struct {
	State string `json:"state"`
	// Remote is the kind of the browser's candidate in the pair in use:
	// "host" (an address it offered, or an mDNS name resolved), "prflx"
	// (learned from its checks), "" before a pair is chosen.
	Remote string `json:"remote"`
	// Inbound (browser → call): packets received, frames concealed for lost
	// packets, packets libopus rejected, packets refused (not RTP, wrong
	// payload type, empty or too large), late packets dropped, stream
	// restarts, packets over the rate limit (maxPacketRate); frames handed
	// to the call, reads that found nothing (silence), frames dropped by a
	// full queue and by latency trimming; the queue's depth now; the level
	// (Level) in dBFS.
	PacketsIn    uint64  `json:"packets_in"`
	Concealed    uint64  `json:"concealed"`
	DecodeErrors uint64  `json:"decode_errors"`
	Refused      uint64  `json:"refused"`
	Late         uint64  `json:"late"`
	Restarts     uint64  `json:"restarts"`
	Flooded      uint64  `json:"flooded"`
	FramesIn     uint64  `json:"frames_in"`
	Silent       uint64  `json:"silent"`
	Dropped      uint64  `json:"dropped"`
	Trimmed      uint64  `json:"trimmed"`
	Queued       int     `json:"queued"`
	Level        float64 `json:"level_dbfs"`
	// Outbound (call → browser): frames encoded, packets sent (DTX silence
	// is not sent), encoder and send errors.
	FramesOut    uint64 `json:"frames_out"`
	PacketsOut   uint64 `json:"packets_out"`
	EncodeErrors uint64 `json:"encode_errors"`
	SendErrors   uint64 `json:"send_errors"`
}

// Stats returns the current figures; safe from any goroutine.
func (b *Bridge) Stats() Stats {
	remote := b.remoteKind()
	b.mu.Lock()
	defer b.mu.Unlock()
	return Stats{
		State: b.State(), Remote: remote,
		PacketsIn: b.in.packets, Concealed: b.in.concealed, DecodeErrors: b.in.decodeErrors,
		Refused: b.in.refused, Late: b.in.late, Restarts: b.in.restarts, Flooded: b.in.flooded,
		FramesIn: b.q.frames, Silent: b.q.silent, Dropped: b.q.dropped, Trimmed: b.q.trimmed,
		Queued: b.q.n, Level: b.levelDBFS(),
		FramesOut: b.out.frames, PacketsOut: b.out.packets, EncodeErrors: b.out.encodeErrors, SendErrors: b.out.sendErrors,
	}
}

// remoteKind is the type of the remote candidate of the selected pair.
func (b *Bridge) remoteKind() string {
	p, err := b.pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || p == nil || p.Remote == nil {
		return ""
	}
	return p.Remote.Typ.String()
}

// Level is the inbound level: the RMS of the browser's audio over about the
// last 100 ms of packets, in dBFS (-100 for silence or before any audio).
func (b *Bridge) Level() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.levelDBFS()
}

func (b *Bridge) levelDBFS() float64 {
	return max(floorDBFS, 10*math.Log10(b.power))
}

// Source is the browser's audio as a call's source: one 20 ms frame per
// ReadFrame, never waiting (silence when nothing is queued), so the caller
// paces it (audio.Paced). Its Close does nothing; the bridge's Close ends it.
func (b *Bridge) Source() audio.Source { return bridgeSource{b} }

// Sink is what the browser hears: each frame is Opus-encoded and sent.
// WriteFrame never fails for network reasons (they are counted): a browser
// going away must not end the call's audio loop. Its Close does nothing.
func (b *Bridge) Sink() audio.Sink { return bridgeSink{b} }

type bridgeSource struct{ b *Bridge }

func (s bridgeSource) ReadFrame(dst []int16) error {
	if len(dst) != audio.FrameSamples {
		return &audio.FrameSizeError{Got: len(dst)}
	}
	s.b.mu.Lock()
	s.b.q.pop(dst)
	s.b.mu.Unlock()
	return nil
}

func (bridgeSource) Close() error { return nil }

type bridgeSink struct{ b *Bridge }

func (s bridgeSink) WriteFrame(src []int16) error {
	if len(src) != audio.FrameSamples {
		return &audio.FrameSizeError{Got: len(src)}
	}
	s.b.send(src)
	return nil
}

func (bridgeSink) Close() error { return nil }
