package webbridge

import (
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v2/vnet"

	"parley/media/audio"
	"parley/media/webbridge/webbridgetest"
)

// Over pion's virtual network (Config.Net) with every 20th media-sized
// packet lost, the browser's tone still comes out of Source, the gaps filled
// by the decoder's concealment (counted), and no RTP is refused.
func TestLossyVirtualNetwork(t *testing.T) {
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelDisabled
	wan, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.7.0.0/24", LoggerFactory: lf})
	if err != nil {
		t.Fatal(err)
	}
	// Only packets the size of an Opus frame or more (SRTP ones; the
	// handshake's are retransmitted anyway) are counted for loss.
	var n atomic.Uint64
	wan.AddChunkFilter(func(c vnet.Chunk) bool {
		return len(c.UserData()) < 60 || n.Add(1)%20 != 0
	})
	bridgeNet, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"10.7.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	browserNet, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"10.7.0.2"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, nic := range []*vnet.Net{bridgeNet, browserNet} {
		if err := wan.AddNet(nic); err != nil {
			t.Fatal(err)
		}
	}
	if err := wan.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wan.Stop() })

	f, b := connectWith(t, webbridgetest.Config{Net: browserNet}, Config{Net: bridgeNet}, nil)
	f.SendTone(440, 0.3)
	waitFor(t, 15*time.Second, "the browser's audio", func() bool { return b.Stats().PacketsIn >= 10 })
	heard := dropSilence(readPaced(t, b.Source(), 100))
	judgeTone(t, "the call", heard[min(len(heard), audio.FrameSamples):], 440, 0.3)
	s := b.Stats()
	t.Logf("stats: %+v", s)
	if s.Concealed == 0 || s.Refused != 0 || s.DecodeErrors != 0 {
		t.Errorf("over a lossy path: concealed %d, refused %d, decode errors %d", s.Concealed, s.Refused, s.DecodeErrors)
	}
	if want := sineDBFS(0.3); math.Abs(s.Level-want) > 3 {
		t.Errorf("inbound level %.1f dBFS over a lossy path, the browser sends %.1f", s.Level, want)
	}
}
