package rtpbridge

import (
	"net/netip"
	"strings"
	"testing"
)

// baresip's offer (1.0, Debian 12), trimmed of its Opus and G.722 lines.
const baresipOffer = "v=0\r\no=- 1283474923 3781209427 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n" +
	"m=audio 10000 RTP/AVP 9 8 0 101\r\na=rtpmap:9 G722/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n" +
	"a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"

func TestParseSDP(t *testing.T) {
	m, err := ParseSDP([]byte(baresipOffer))
	if err != nil || m.PT != PTPCMA || m.Addr != netip.MustParseAddrPort("10.0.0.2:10000") || m.EventPT != 101 {
		t.Fatalf("got %+v, %v; want PCMA at 10.0.0.2:10000, events 101", m, err)
	}
	// telephone-event named by rtpmap but not among the formats: none.
	m, _ = ParseSDP([]byte(strings.ReplaceAll(baresipOffer, " 0 101\r\n", " 0\r\n")))
	if m.EventPT != 0 {
		t.Fatalf("event pt %d from an rtpmap not in the m= line", m.EventPT)
	}
	// Our own SDP reads back as what it says.
	local := netip.MustParseAddrPort("192.168.1.5:40000")
	m, err = ParseSDP([]byte(BuildSDP(local, 7, PTPCMU, PTPCMA, PTEvent)))
	if err != nil || m.PT != PTPCMU || m.Addr != local || m.EventPT != PTEvent {
		t.Fatalf("own: %+v, %v", m, err)
	}
	for name, body := range map[string]string{
		"no G.711": strings.ReplaceAll(strings.ReplaceAll(baresipOffer, " 8 0 101", " 101"), "", ""),
		"port 0":   strings.ReplaceAll(baresipOffer, "m=audio 10000", "m=audio 0"),
		"too long": baresipOffer + strings.Repeat("a=x\r\n", 2000),
		"garbage":  "hello",
	} {
		if m, err := ParseSDP([]byte(body)); err == nil {
			t.Errorf("%s: accepted as %+v", name, m)
		}
	}
}

// Directions (hold.go): media level over session level, c=0.0.0.0 as
// RFC 2543's hold, our own SDP saying what we asked.
func TestParseSDPDirection(t *testing.T) {
	for _, c := range []struct {
		name, body string
		want       Direction
	}{
		{"sendrecv", baresipOffer, SendRecv},
		{"sendonly", strings.ReplaceAll(baresipOffer, "a=sendrecv", "a=sendonly"), SendOnly},
		{"inactive", strings.ReplaceAll(baresipOffer, "a=sendrecv", "a=inactive"), Inactive},
		{"recvonly", strings.ReplaceAll(baresipOffer, "a=sendrecv", "a=recvonly"), RecvOnly},
		{"none", strings.ReplaceAll(baresipOffer, "a=sendrecv\r\n", ""), SendRecv},
		{"session level", strings.ReplaceAll(strings.ReplaceAll(baresipOffer, "a=sendrecv\r\n", ""), "t=0 0\r\n", "t=0 0\r\na=sendonly\r\n"), SendOnly},
		{"media over session", strings.ReplaceAll(baresipOffer, "t=0 0\r\n", "t=0 0\r\na=inactive\r\n"), SendRecv},
		{"0.0.0.0", strings.ReplaceAll(baresipOffer, "c=IN IP4 10.0.0.2", "c=IN IP4 0.0.0.0"), SendOnly},
		{"0.0.0.0 recvonly", strings.ReplaceAll(strings.ReplaceAll(baresipOffer, "c=IN IP4 10.0.0.2", "c=IN IP4 0.0.0.0"), "a=sendrecv", "a=recvonly"), Inactive},
	} {
		m, err := ParseSDP([]byte(c.body))
		if err != nil || m.Dir != c.want {
			t.Errorf("%s: %v, %v; want %v", c.name, m.Dir, err, c.want)
		}
	}
	m, _ := ParseSDP([]byte(strings.ReplaceAll(baresipOffer, "c=IN IP4 10.0.0.2", "c=IN IP4 0.0.0.0")))
	prev := Media{Addr: netip.MustParseAddrPort("10.0.0.2:10000")}
	if !m.Unspecified() || m.KeepAddr(prev).Addr != prev.Addr {
		t.Errorf("0.0.0.0 keeps the previous address: %+v", m.KeepAddr(prev))
	}
	for _, d := range []Direction{SendRecv, SendOnly, RecvOnly, Inactive} {
		body := buildSDP(netip.MustParseAddrPort("10.0.0.1:4000"), 1, 2, d, PTOpus, PTEvent48, []uint8{PTPCMU})
		if m, err := ParseSDP([]byte(body)); err != nil || m.Dir != d {
			t.Errorf("own %v reads back as %v, %v", d, m.Dir, err)
		}
	}
	if SendOnly.Answer() != RecvOnly || Inactive.Answer() != Inactive || SendRecv.Answer() != SendRecv || RecvOnly.Answer() != SendOnly {
		t.Error("answers")
	}
}

func FuzzParseSDP(f *testing.F) {
	f.Add([]byte(baresipOffer))
	f.Add([]byte(BuildSDP(netip.MustParseAddrPort("[fe80::1]:9"), 1, PTPCMA)))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseSDP(b)
		if err == nil && (!m.Addr.IsValid() || m.Addr.Port() == 0 || (m.PT != PTPCMU && m.PT != PTPCMA) || m.Dir > Inactive) {
			t.Fatalf("accepted %+v", m)
		}
	})
}
