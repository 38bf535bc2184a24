package files

// SetDownloads changes the folder accepted files land in, from the next
// Accept on: a transfer already under way finishes in the folder it was
// accepted into (its partial file is there, and a finished file is placed
// beside it by a link or a rename, which cannot cross file systems).
func (s *Service) SetDownloads(dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.Downloads = dir
}

// Downloads is the folder accepted files land in now.
func (s *Service) Downloads() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Downloads
}
