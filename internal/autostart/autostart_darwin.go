//go:build darwin

package autostart

import (
	"errors"
	"fmt"
)

// macOS starts programs at login through launchd or Login Items, neither of
// which Parley manages yet: the setting is not offered there (Supported).
var errUnsupported = fmt.Errorf("autostart: %w on macOS", errors.ErrUnsupported)

const supported = false

func enabled(string) (bool, error) { return false, nil }
func enable(Entry) error           { return errUnsupported }
func disable(string) error         { return nil }
