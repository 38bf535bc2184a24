package sounds

import (
	"math"
	"slices"
	"testing"
)

// Every sound is there, audible (its peak at a third of full scale), starts
// and ends near silence (no click where a loop wraps round), and the looped
// ones have quiet between the rings.
func TestSounds(t *testing.T) {
	if got := Names(); !slices.Equal(got, []string{Alarm, Message, Ring, Ringback}) {
		t.Fatalf("Names() = %v", got)
	}
	for _, name := range Names() {
		s, ok := Get(name)
		if !ok || len(s.PCM) == 0 {
			t.Fatalf("%s: missing", name)
		}
		top := 0
		for _, v := range s.PCM {
			top = max(top, abs(int(v)))
		}
		if want := int(math.Round(peak * math.MaxInt16)); top < want-2 || top > want+2 {
			t.Errorf("%s: peak %d, want %d", name, top, want)
		}
		if first, last := abs(int(s.PCM[0])), abs(int(s.PCM[len(s.PCM)-1])); first > 200 || last > 200 {
			t.Errorf("%s: starts at %d, ends at %d (a click)", name, first, last)
		}
		if s.Loop {
			tail := s.PCM[len(s.PCM)-SampleRate/2:]
			for _, v := range tail {
				if abs(int(v)) > 50 {
					t.Errorf("%s: no quiet before it repeats (%d)", name, v)
					break
				}
			}
		}
	}
	if _, ok := Get("siren"); ok {
		t.Error("an unknown sound was made")
	}
	if s, _ := Get(Message); s.Loop || len(s.PCM) > SampleRate/2 {
		t.Errorf("the message sound loops (%v) or lasts %d samples", s.Loop, len(s.PCM))
	}
}

func abs(v int) int { return max(v, -v) }
