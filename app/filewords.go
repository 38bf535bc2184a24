package app

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// File transfers in words: sizes, rates, time left, and why one ended.

// humanSize is a byte count as people read it (1000-based, like file managers).
func humanSize(n uint64) string {
	const unit = 1000
	if n < unit {
		if n == 1 {
			return "1 byte"
		}
		return fmt.Sprintf("%d bytes", n)
	}
	f := float64(n)
	for _, u := range []string{"kB", "MB", "GB", "TB"} {
		f /= unit
		if f < unit || u == "TB" {
			if f < 10 {
				return fmt.Sprintf("%.1f %s", f, u)
			}
			return fmt.Sprintf("%.0f %s", f, u)
		}
	}
	return ""
}

// rateText is a transfer rate; "" when nothing is moving.
func rateText(bytesPerSec float64) string {
	if bytesPerSec < 1 || math.IsNaN(bytesPerSec) || math.IsInf(bytesPerSec, 0) {
		return ""
	}
	return humanSize(uint64(bytesPerSec)) + "/s"
}

// timeLeft is how long the rest takes at the current rate; "" when unknown.
func timeLeft(done, total uint64, bytesPerSec float64) string {
	if bytesPerSec < 1 || done >= total {
		return ""
	}
	secs := float64(total-done) / bytesPerSec
	if secs > 48*3600 {
		return "more than 2 days left"
	}
	d := time.Duration(math.Ceil(secs)) * time.Second
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s left", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min %02d s left", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%d h %02d min left", int(d.Hours()), int(d.Minutes())%60)
}

// progressLine is "1.2 MB of 4.8 MB · 850 kB/s · 5 s left".
func progressLine(t *transfer) string {
	parts := []string{humanSize(t.bytes) + " of " + humanSize(t.size)}
	if r := rateText(t.rate); r != "" {
		parts = append(parts, r)
	}
	if l := timeLeft(t.bytes, t.size, t.rate); l != "" {
		parts = append(parts, l)
	}
	return strings.Join(parts, " · ")
}

// kindText is the file type as a short word from its media type.
func kindText(mime string) string {
	if mime == "" {
		return ""
	}
	kind, sub, _ := strings.Cut(mime, "/")
	sub, _, _ = strings.Cut(sub, ";")
	switch kind {
	case "image", "video", "audio":
		return strings.ToUpper(sub) + " " + kind
	case "text":
		if sub == "plain" {
			return "Text"
		}
		return strings.ToUpper(sub) + " text"
	}
	switch sub {
	case "pdf":
		return "PDF document"
	case "zip", "gzip", "x-tar", "x-7z-compressed":
		return "Archive (" + strings.TrimPrefix(sub, "x-") + ")"
	}
	return mime
}

// failureText says in plain words why a transfer ended without the file.
// peer names the other side ("" when unknown).
func failureText(t *transfer, reason, peer string) string {
	if peer == "" {
		peer = "The other side"
	}
	switch {
	case reason == "declined" && t.out:
		return peer + " declined the file"
	case reason == "declined":
		return "You declined it"
	case reason == "cancelled" && t.out:
		return "You withdrew the offer"
	case reason == "cancelled":
		return "You cancelled the download; the partial file was deleted"
	case reason == "cancelled by the recipient":
		return peer + " cancelled the download"
	case reason == "cancelled by the sender":
		return peer + " withdrew the offer"
	case strings.HasPrefix(reason, "write: "):
		return "Could not save it in the downloads folder (" + strings.TrimPrefix(reason, "write: ") +
			") — is the disk full?"
	case strings.HasPrefix(reason, "resume: "):
		return "Could not pick the download up again after a restart (" + strings.TrimPrefix(reason, "resume: ") + ")"
	case reason == "":
		return "It stopped for an unknown reason"
	}
	return "It failed: " + reason
}

// isImage: a finished file worth a thumbnail (the formats Go decodes).
func isImage(t *transfer) bool {
	switch t.mime {
	case "image/png", "image/jpeg", "image/gif":
		return true
	}
	switch strings.ToLower(fileExt(t.name)) {
	case ".png", ".jpg", ".jpeg", ".gif":
		return true
	}
	return false
}

func fileExt(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i:]
	}
	return ""
}
