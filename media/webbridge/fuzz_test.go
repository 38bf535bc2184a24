package webbridge

import (
	"strings"
	"testing"

	"github.com/pion/sdp/v3"
)

// FuzzCheckOffer: any text is judged without panicking, within its bounds,
// and what passes is one audio m-line offering Opus.
func FuzzCheckOffer(f *testing.F) {
	session, _, _ := strings.Cut(chromeOffer, "m=audio")
	for _, s := range []string{
		chromeOffer, "", "v=0\r\n", session, session + videoSection, chromeOffer + videoSection,
		strings.Replace(chromeOffer, "opus/48000/2", "ISAC/16000", 1),
		"v=0\r\nm=audio 9 RTP/AVP 111\r\na=rtpmap:111 opus/48000\r\n",
		"v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 OPUS/48000/2\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := CheckOffer(s)
		if len(s) > MaxOfferBytes && err == nil {
			t.Fatal("an offer over the cap passed")
		}
		if err != nil {
			if len(err.Error()) > 300 {
				t.Fatalf("an error of %d bytes", len(err.Error()))
			}
			return
		}
		var d sdp.SessionDescription
		if d.UnmarshalString(s) != nil || len(d.MediaDescriptions) != 1 || d.MediaDescriptions[0].MediaName.Media != "audio" || !offersOpus(d.MediaDescriptions[0]) {
			t.Fatalf("passed: %q", s)
		}
	})
}
