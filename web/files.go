package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
)

// upload takes a file from a guest's browser (the body is the file's bytes) and
// offers it from the guest's node: POST /api/upload?to=PEER|room=ROOM&name=NAME
// with the session's bearer token. The file lands in UploadDir/<guest>/, read by
// the node while the transfer runs.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	sess := s.sessionOf(r)
	if sess == nil {
		s.count("web_upload_unauthorised")
		http.Error(w, "no session", http.StatusUnauthorized)
		return
	}
	select {
	case sess.uploads <- struct{}{}:
		defer func() { <-sess.uploads }()
	default:
		s.count("web_upload_busy")
		http.Error(w, "too many uploads at once", http.StatusTooManyRequests)
		return
	}
	q := r.URL.Query()
	to, room := q.Get("to"), q.Get("room")
	if (to == "") == (room == "") {
		http.Error(w, `give exactly one of "to" or "room"`, http.StatusBadRequest)
		return
	}
	name := safeName(q.Get("name"))
	if name == "" {
		http.Error(w, "a file name is needed", http.StatusBadRequest)
		return
	}
	if r.ContentLength > s.lim.MaxUpload {
		s.count("web_upload_too_large")
		http.Error(w, "file too large", http.StatusRequestEntityTooLarge)
		return
	}
	if s.opts.UploadDir == "" {
		http.Error(w, "uploads are off on this host", http.StatusServiceUnavailable)
		return
	}
	dir := filepath.Join(s.opts.UploadDir, sess.guest.ID(), newToken()[:16])
	if err := os.MkdirAll(dir, 0o700); err != nil {
		http.Error(w, "cannot store the file", http.StatusInternalServerError)
		return
	}
	path := filepath.Join(dir, name)
	n, err := s.receive(r, sess, path)
	if err != nil {
		os.RemoveAll(dir)
		s.count("web_upload_failed")
		status := http.StatusBadRequest
		if errors.Is(err, errTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		http.Error(w, err.Error(), status)
		return
	}
	ids, err := sess.guest.Node().SendFile(to, room, path)
	if err != nil {
		os.RemoveAll(dir)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ids": ids, "name": name, "size": n})
}

var errTooLarge = errors.New("file too large")

// uploadsKept is how long an uploaded file stays in UploadDir: the guest's
// node reads it while the transfer runs, and offers do not outlive the
// host's process, so files older than a day are leftovers of earlier runs.
const uploadsKept = 24 * time.Hour

// sweepUploads removes upload folders older than uploadsKept (at start).
func sweepUploads(dir string, now time.Time) {
	guests, _ := os.ReadDir(dir)
	for _, g := range guests {
		gdir := filepath.Join(dir, g.Name())
		ups, _ := os.ReadDir(gdir)
		for _, u := range ups {
			if info, err := u.Info(); err == nil && now.Sub(info.ModTime()) > uploadsKept {
				os.RemoveAll(filepath.Join(gdir, u.Name()))
			}
		}
	}
}

// receive copies the body to path at the guest's byte rate, up to the cap.
func (s *Server) receive(r *http.Request, sess *session, path string) (int64, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, errors.New("cannot store the file")
	}
	defer f.Close()
	buf := make([]byte, 256<<10)
	var total int64
	for {
		n, rerr := r.Body.Read(buf)
		if n > 0 {
			total += int64(n)
			if total > s.lim.MaxUpload {
				return total, errTooLarge
			}
			if _, err := f.Write(buf[:n]); err != nil {
				return total, errors.New("cannot store the file")
			}
			if d := sess.upload.wait(float64(n)); d > 0 {
				select {
				case <-time.After(d):
				case <-r.Context().Done():
					return total, r.Context().Err()
				}
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return total, fmt.Errorf("upload broken off: %w", rerr)
		}
	}
	return total, f.Sync()
}

// download hands a guest a file its node received: GET /api/file/{transfer id}
// with the bearer token. Only a completed incoming transfer of that guest's own
// node, so a guest reaches nothing else on the host.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	sess := s.sessionOf(r)
	if sess == nil {
		s.count("web_download_unauthorised")
		http.Error(w, "no session", http.StatusUnauthorized)
		return
	}
	id := r.PathValue("id")
	for _, t := range sess.guest.Node().Transfers() {
		if t.ID != id || t.Out || t.State != "done" || t.Path == "" {
			continue
		}
		f, err := os.Open(t.Path)
		if err != nil {
			http.Error(w, "the file is gone", http.StatusGone)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil || !st.Mode().IsRegular() {
			http.Error(w, "the file is gone", http.StatusGone)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename*=UTF-8''%s", urlEscape(safeName(t.Name))))
		http.ServeContent(w, r, "", st.ModTime(), f)
		return
	}
	http.Error(w, "no such received file", http.StatusNotFound)
}

// safeName keeps a file name's last element, without control characters,
// bounded to 255 bytes: what the guest's node offers and what lands on disk.
func safeName(name string) string {
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '/' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "." || name == ".." {
		return ""
	}
	for len(name) > 255 {
		_, size := lastRune(name)
		name = name[:len(name)-size]
	}
	return name
}

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i]&0xC0 != 0x80 {
			return rune(s[i]), len(s) - i
		}
	}
	return 0, 1
}

func urlEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c < 0x80 && (unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)) || strings.IndexByte("-._~", c) >= 0) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
