//go:build !parleyhostile

package files

// hostileBuild is false in every build users run: serving corrupted chunks
// (hostile_serve.go) is compiled only with -tags parleyhostile, for the
// multi-host tests. The guarded call in serve.go is dead code here and the
// compiler drops it, environment variable and all.
const hostileBuild = false

func (s *Service) corruptServed([]byte, uint32) {}
