package webbridge

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
)

// MaxOfferBytes bounds the offer a browser may send. A real one-track audio
// offer from Chrome or Firefox is 2–5 KiB, a few more with many interfaces'
// candidates; 64 KiB leaves room for any of them and is also the guest
// WebSocket's message cap, so nothing larger reaches here anyway.
const MaxOfferBytes = 64 << 10

// Errors of CheckOffer (and so of Answer), wrapped with the detail.
var (
	ErrOfferTooLarge = errors.New("webbridge: offer too large")
	ErrOfferSyntax   = errors.New("webbridge: offer is not SDP")
	ErrOfferMedia    = errors.New("webbridge: offer must carry exactly one audio stream and nothing else")
	ErrOfferNoOpus   = errors.New("webbridge: offer's audio does not offer Opus at 48 kHz")
)

// CheckOffer says whether sdpText is an offer the bridge answers: at most
// MaxOfferBytes, valid SDP, exactly one m-line, of kind audio, listing a
// payload type mapped to opus/48000. Video, data channels or a second audio
// stream are refused rather than left unanswered, so a page asking for more
// than the bridge does learns it at once.
func CheckOffer(sdpText string) error {
	if len(sdpText) > MaxOfferBytes {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrOfferTooLarge, len(sdpText), MaxOfferBytes)
	}
	var d sdp.SessionDescription
	if err := d.UnmarshalString(sdpText); err != nil {
		return fmt.Errorf("%w: %v", ErrOfferSyntax, err)
	}
	var kinds []string
	for _, m := range d.MediaDescriptions {
		kinds = append(kinds, m.MediaName.Media)
	}
	if len(kinds) != 1 || kinds[0] != "audio" {
		return fmt.Errorf("%w (got %s)", ErrOfferMedia, describeKinds(kinds))
	}
	if !offersOpus(d.MediaDescriptions[0]) {
		return ErrOfferNoOpus
	}
	return nil
}

// offersOpus reports whether one of m's listed formats is mapped to
// opus/48000 by an rtpmap attribute ("111 opus/48000/2").
func offersOpus(m *sdp.MediaDescription) bool {
	listed := map[string]bool{}
	for _, f := range m.MediaName.Formats {
		listed[f] = true
	}
	for _, a := range m.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		pt, codec, ok := strings.Cut(a.Value, " ")
		if !ok || !listed[pt] {
			continue
		}
		name, rest, _ := strings.Cut(codec, "/")
		rate, _, _ := strings.Cut(rest, "/")
		if strings.EqualFold(name, "opus") && rate == "48000" {
			return true
		}
	}
	return false
}

func describeKinds(kinds []string) string {
	if len(kinds) == 0 {
		return "no media"
	}
	if len(kinds) > 4 {
		return fmt.Sprintf("%d media lines", len(kinds))
	}
	// The kinds are the page's words: quoted and cut short in our error.
	q := make([]string, len(kinds))
	for i, k := range kinds {
		q[i] = fmt.Sprintf("%.16q", k)
	}
	return strings.Join(q, ", ")
}
