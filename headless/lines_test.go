package headless

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// splitModel is what readLines must pass on: input split at newlines, each line
// trimmed, blank lines dropped, lines over MaxLine (newline excluded) replaced by
// errLineTooLong.
func splitModel(data string) []string {
	segs := strings.Split(data, "\n")
	out := make([]string, 0, len(segs))
	for _, seg := range segs {
		if len(seg) > MaxLine {
			out = append(out, "<too long>")
			continue
		}
		if line := trimSpace([]byte(seg)); len(line) > 0 {
			out = append(out, string(line))
		}
	}
	return out
}

// readAll drives readLine over data with a small buffer, so lines span many reads.
func readAll(t *testing.T, data string) []string {
	t.Helper()
	r := bufio.NewReaderSize(strings.NewReader(data), 16)
	var out []string
	for i := 0; ; i++ {
		if i > len(data)+1 {
			t.Fatal("readLine does not make progress")
		}
		line, err := readLine(r)
		switch {
		case errors.Is(err, errLineTooLong):
			out = append(out, "<too long>")
			continue
		case err != nil && err != io.EOF:
			t.Fatalf("readLine: %v", err)
		}
		if len(line) > 0 {
			out = append(out, string(line))
		}
		if err == io.EOF {
			return out
		}
	}
}

func TestReadLine(t *testing.T) {
	for _, data := range []string{
		"",
		"\n",
		"a\nb\n",
		"  a \t\r\n\tb",
		"no newline at end",
		strings.Repeat("x", MaxLine) + "\nnext\n",
		strings.Repeat("x", MaxLine+1) + "\nnext\n",
		strings.Repeat("x", MaxLine) + "\r\n",
		strings.Repeat("x", MaxLine+1),
		"first\n" + strings.Repeat("y", 3*MaxLine) + "\n\nlast",
	} {
		got, want := readAll(t, data), splitModel(data)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("input of %d bytes: got %d lines %.80q, want %d lines %.80q", len(data), len(got), got, len(want), want)
		}
	}
}

// FuzzReadLine checks the line splitter against the model above. Invariants: no
// panic, progress on every call, and the same lines as a plain split.
func FuzzReadLine(f *testing.F) {
	for _, seed := range []string{"", "\n", "a\nb\n", "  a \t\r\n\tb", "no newline", "\r\r\n\n \n",
		`{"cmd":"self"}` + "\n" + `{"cmd":"quit"}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Count(data, []byte{'\n'}) > 1000 {
			return
		}
		got, want := readAll(t, string(data)), splitModel(string(data))
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}
