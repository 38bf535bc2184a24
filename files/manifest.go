package files

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// chunkSizeFor picks the chunk size: DefaultChunk, doubled for files too large to
// describe in MaxChunks of it.
func chunkSizeFor(size uint64) (uint32, error) {
	for c := uint32(DefaultChunk); c <= MaxChunk; c *= 2 {
		if chunkCount(size, c) <= MaxChunks {
			return c, nil
		}
	}
	return 0, fmt.Errorf("file of %d bytes is larger than %d bytes, the limit", size, uint64(MaxChunks)*MaxChunk)
}

// hashFile builds the manifest of the file at path, and what its seed knows
// of the file: its identity, and whether the hashes may stand for the bytes
// while it is unchanged (sourceid.go). A file whose identity moved while it
// was being hashed fails: its hashes may mix two versions.
func hashFile(path string, margin time.Duration) (size uint64, chunk uint32, hashes []Hash, src sourceState, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, nil, src, err
	}
	defer f.Close()
	t0 := time.Now()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, nil, src, err
	}
	if !st.Mode().IsRegular() {
		return 0, 0, nil, src, fmt.Errorf("%s is not a regular file", path)
	}
	before, known := idOf(st)
	size = uint64(st.Size())
	if chunk, err = chunkSizeFor(size); err != nil {
		return 0, 0, nil, src, err
	}
	if hashes, err = hashChunks(f, size, chunk); err != nil {
		return 0, 0, nil, src, err
	}
	if known {
		after, _, err := identify(f)
		if err != nil {
			return 0, 0, nil, src, err
		}
		if after != before {
			return 0, 0, nil, src, fmt.Errorf("%s changed while it was being hashed", path)
		}
		src.id, src.known = before, true
		src.all = src.settled(t0, margin)
	}
	return size, chunk, hashes, src, nil
}

// hashChunks reads size bytes from r in chunks and hashes each.
func hashChunks(r io.ReaderAt, size uint64, chunk uint32) ([]Hash, error) {
	n := chunkCount(size, chunk)
	out := make([]Hash, n)
	buf := make([]byte, chunk)
	for i := uint64(0); i < n; i++ {
		l := uint64(chunk)
		if rest := size - i*uint64(chunk); rest < l {
			l = rest
		}
		if _, err := r.ReadAt(buf[:l], int64(i)*int64(chunk)); err != nil {
			return nil, fmt.Errorf("read chunk %d: %w", i, err)
		}
		out[i] = sha256.Sum256(buf[:l])
	}
	return out, nil
}

// mediaType guesses a file's type from its extension ("" when unknown).
func mediaType(name string) string {
	t := mime.TypeByExtension(filepath.Ext(name))
	if len(t) > maxMediaType {
		return ""
	}
	return t
}

// SafeName turns a name from a peer into a plain file name: the last path
// element (either separator), without control characters, format characters
// (Unicode Cf: the bidi embeddings, overrides and isolates U+202A-202E and
// U+2066-2069, the marks U+200E, U+200F and U+061C, zero-width characters, the
// BOM, the soft hyphen) or line and paragraph separators, and without leading
// dots (no hidden files, no clash with partial downloads), at most MaxName
// bytes. Format characters go because a name is shown to the user before it
// is saved: "invoice\u202Efdp.exe" displays as "invoiceexe.pdf" (a
// Trojan-Source name). The price is that emoji joined with U+200D show as
// their parts. It fails when nothing usable is left.
func SafeName(name string) (string, error) {
	name = strings.ReplaceAll(name, "\\", "/")
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) || r == ':' ||
			unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	for len(name) > MaxName {
		_, n := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-n]
	}
	if name == "" {
		return "", errors.New("file name has nothing usable")
	}
	return name, nil
}

// numbered is "name (k).ext".
func numbered(name string, k int) string {
	ext := filepath.Ext(name)
	if ext == name {
		ext = ""
	}
	return fmt.Sprintf("%s (%d)%s", strings.TrimSuffix(name, ext), k, ext)
}

// placeFile moves the finished temp file into dir under name, or "name (1).ext",
// "name (2).ext"… — never replacing an existing file: a hard link fails when the
// target exists, which makes the check and the move one atomic step.
func placeFile(temp, dir, name string) (string, error) {
	for k := 0; k < 10000; k++ {
		cand := name
		if k > 0 {
			cand = numbered(name, k)
		}
		target := filepath.Join(dir, cand)
		if filepath.Dir(target) != filepath.Clean(dir) {
			return "", fmt.Errorf("file name %q escapes the downloads folder", cand)
		}
		err := os.Link(temp, target)
		if err == nil {
			return target, os.Remove(temp)
		}
		if errors.Is(err, os.ErrExist) {
			continue
		}
		// Hard links unsupported here: reserve the name exclusively, then rename
		// over our own placeholder.
		f, cerr := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if errors.Is(cerr, os.ErrExist) {
			continue
		}
		if cerr != nil {
			return "", fmt.Errorf("place %s: %w", target, cerr)
		}
		f.Close()
		if err := os.Rename(temp, target); err != nil {
			os.Remove(target)
			return "", fmt.Errorf("place %s: %w", target, err)
		}
		return target, nil
	}
	return "", fmt.Errorf("no free name for %q", name)
}

// expandPaths turns files and folders into the list of regular files to offer
// (folders recursively, symlinks and special files skipped), at most limit.
func expandPaths(paths []string, limit int) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			if !st.Mode().IsRegular() {
				return nil, fmt.Errorf("%s is not a regular file", p)
			}
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				out = append(out, path)
			}
			if len(out) > limit {
				return fmt.Errorf("more than %d files", limit)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("folder %s: %w", p, err)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no files to send")
	}
	if len(out) > limit {
		return nil, fmt.Errorf("more than %d files", limit)
	}
	return out, nil
}
